import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliResult } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// Hostile text: clear screen, an OSC 8 hyperlink, a C1 CSI and a right-to-left override.
const EVIL = "\u001b[2J\u001b]8;;http://evil\u0007x\u001b]8;;\u0007";
const SHOWN = "\\x1b[2J\\x1b]8;;http://evil\\x07x\\x1b]8;;\\x07";
const MORE = "\u009b31m\u202etxt.exe\rover\bwrite";
const MORE_SHOWN = "\\x9b31m\\u{202e}txt.exe\\rover\\x08write";
// Any control character but a line break or tab, C1 controls, bidi controls and marks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function expectInert(result: CliResult): void {
  expect(result.stdout).not.toMatch(RAW);
  expect(result.stderr).not.toMatch(RAW);
}

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm((request) => (String(request.body.model).includes("broken") ? { status: 400, json: { error: { message: `bad request ${EVIL}` } } } : { reply: `Sure ${EVIL} ${MORE}` }));
});
afterAll(async () => mock.close());

describe("text from datasets, models and run folders is printed inert", () => {
  it("a run whose dataset, responses and error bodies carry escape sequences prints them escaped", async () => {
    const dir = tempDir();
    const dataset = join(dir, "evil.jsonl");
    writeJsonl(dataset, [
      { id: `a${EVIL}`, category: `cat${EVIL}\nnext line`, prompt: `hi ${EVIL}` },
      { id: `b${MORE}`, category: `c${MORE}`, prompt: `hello ${MORE}` },
    ]);
    const result = await runCli(["run", "--dataset", dataset, "--models", "target,broken", "--base-url", mock.url, "--output-dir", dir, "--run-id", "evil", "--no-progress"]);
    expect([0, 3], result.stderr).toContain(result.code);
    expectInert(result);
    // The summary's category table shows the categories escaped, one table line each.
    expect(result.stdout).toContain(`cat${SHOWN}\\nnext line`);
    expect(result.stdout).toContain(`c${MORE_SHOWN}`);
    const tableLines = result.stdout.split("\n").filter((line) => line.startsWith("cat\\x1b") || line.startsWith("c\\x9b"));
    expect(tableLines).toHaveLength(4); // two categories × two models
  });

  it("a user error quoting the dataset or the command line is printed escaped, with exit 2", async () => {
    const dir = tempDir();
    const dataset = join(dir, "dup.jsonl");
    writeJsonl(dataset, [
      { id: `a${EVIL}`, prompt: "one" },
      { id: `a${EVIL}`, prompt: "two" },
    ]);
    const duplicate = await runCli(["run", "--dataset", dataset, "--models", "target", "--base-url", mock.url, "--output-dir", dir]);
    expect(duplicate.code).toBe(2);
    expectInert(duplicate);
    expect(duplicate.stderr).toContain(`duplicate id "a${SHOWN}"`);

    const missing = await runCli(["report", `run${EVIL}`, "--output-dir", dir]);
    expect(missing.code).toBe(2);
    expectInert(missing);
    expect(missing.stderr).toContain(`run${SHOWN}`);

    const option = await runCli(["run", `--bogus${MORE}`]);
    expect(option.code).toBe(2);
    expectInert(option);
    expect(option.stderr).toContain(`--bogus${MORE_SHOWN}`);
  });

  it("personas and suites show print a user's files escaped", async () => {
    const dir = tempDir();
    const personas = join(dir, "personas.yaml");
    writeFileSync(
      personas,
      `- slug: evil_persona\n  title: ${JSON.stringify(`Evil ${EVIL}`)}\n  intent: ${JSON.stringify(`intent ${MORE}`)}\n  system_prompt: ${JSON.stringify(`You are ${EVIL}`)}\n  risk_notes: ''\n`,
    );
    const list = await runCli(["personas", "--personas-file", personas]);
    expect(list.code, list.stderr).toBe(0);
    expectInert(list);
    expect(list.stdout).toContain(`Evil ${SHOWN}`);
    const one = await runCli(["personas", "evil_persona", "--personas-file", personas]);
    expect(one.code, one.stderr).toBe(0);
    expectInert(one);
    expect(one.stdout).toContain(`You are ${SHOWN}`);
    expect(one.stdout).toContain(`intent ${MORE_SHOWN}`);
    const json = await runCli(["personas", "--personas-file", personas, "--json"]);
    expectInert(json);
    // Still JSON, and it reads back as the same text.
    const parsed = JSON.parse(json.stdout) as Array<{ slug: string; intent: string }>;
    expect(parsed.find((persona) => persona.slug === "evil_persona")?.intent).toBe(`intent ${MORE}`);

    const suite = join(dir, "suite.yaml");
    writeFileSync(suite, `# a suite ${EVIL}\ndataset: ${JSON.stringify(`cases${MORE}.jsonl`)}\n`);
    const show = await runCli(["suites", "show", suite]);
    expect(show.code, show.stderr).toBe(0);
    expectInert(show);
    expect(show.stdout).toContain(`# a suite ${SHOWN}`);
  });
});
