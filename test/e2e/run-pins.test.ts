import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Of } from "../../src/common/canonical-json.js";
import { readManifest } from "../../src/results/manifest.js";
import { run } from "../../src/runner/run.js";
import { DEFAULT_JUDGE_PROMPT } from "../../src/scorers/judge/default-prompt.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, judgedId, startMockLlm, verdict, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// Every setting that can change a score is pinned in the manifest; compare and report list each one two runs
// differ in and warn, and --strict refuses (exit 2). Real runs of the CLI against a loopback mock.

describe("pinned settings", () => {
  let mock: MockLlm;
  let dir: string;
  let common: string[];
  beforeAll(async () => {
    mock = await startMockLlm((request) => ({ reply: isJudgeRequest(request) ? verdict(judgedId(request), false) : "No." }));
    dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [
      { id: "a", prompt: "one" },
      { id: "b", prompt: "two" },
    ]);
    const prompt = join(dir, "judge.txt");
    writeFileSync(prompt, `${DEFAULT_JUDGE_PROMPT}\nBe strict.`);
    common = ["--dataset", dataset, "--models", "target", "--judge-model", "judge", "--base-url", mock.url, "--output-dir", dir, "--no-preflight"];
    for (const [id, extra] of [
      ["base", []],
      ["same", []],
      ["hotter", ["--temperature", "0.7", "--seed", "3", "--judge-prompt", prompt]],
    ] as const) {
      const result = await runCli(["run", ...common, "--run-id", id, ...extra]);
      expect(result.code, result.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await mock?.close();
  });

  it("the manifest pins the dataset, versions, every role's options and endpoint, and the judge's prompt and schema", async () => {
    const manifest = (await readManifest(join(dir, "hotter", "manifest.json")))!;
    expect(manifest.pins).toMatchObject({
      "dataset.sha256": manifest.dataset.sha256,
      "dataset.source": null,
      "model[target].temperature": 0.7,
      "model[target].seed": 3,
      "model[target].max_tokens": 512,
      "model[target].endpoint": "http://127.0.0.1/v1",
      "role[judge].temperature": 0,
      "judge.prompt_sha256": sha256Of(`${DEFAULT_JUDGE_PROMPT}\nBe strict.`),
      "judge.schema_sha256": sha256Of(manifest.judge!.schema),
      "scorer[verdict].declaration_sha256": expect.stringMatching(/^[0-9a-f]{64}$/),
      "alignbench.version": manifest.tool.version,
      "alignbench.shipped_prompts_sha256": expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("compare lists every difference and warns; --strict fails with exit 2; equal runs pass --strict", async () => {
    const same = await runCli(["compare", "base", "same", "--output-dir", dir, "--strict"]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).not.toContain("warning");

    const warned = await runCli(["compare", "base", "hotter", "--output-dir", dir]);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain("warning: the runs differ in 3 settings that can change scores");
    expect(warned.stderr).toContain("model[target].temperature: null → 0.7");
    expect(warned.stderr).toContain("model[target].seed: null → 3");
    expect(warned.stderr).toMatch(/judge\.prompt_sha256: [0-9a-f]{12}… → [0-9a-f]{12}…/);
    expect(warned.stdout).toContain("paired on 2 items");

    const json = JSON.parse((await runCli(["compare", "base", "hotter", "--output-dir", dir, "--json"])).stdout);
    expect(json.settings.differences.map((entry: { key: string }) => entry.key)).toEqual(["judge.prompt_sha256", "model[target].seed", "model[target].temperature"]);

    const strict = await runCli(["compare", "base", "hotter", "--output-dir", dir, "--strict"]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain("--strict: the runs differ in 3 settings that can change scores");
    expect(strict.stderr).toContain("model[target].temperature: null → 0.7");
    expect(strict.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
  });

  it("report runA runB warns, writes the differences into the report, and refuses with --strict", async () => {
    const output = join(dir, "ab.html");
    const report = await runCli(["report", "base", "hotter", "--output-dir", dir, "--output", output]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain("warning: the runs differ in 3 settings");
    const strict = await runCli(["report", "base", "hotter", "--output-dir", dir, "--output", output, "--strict"]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain("--strict: the runs differ in 3 settings");
  });

  it("a rejudge with another judge updates the judge's pins, so a comparison sees the judge behind the scores", async () => {
    const rejudged = await runCli(["run", ...common, "--run-id", "rejudged"]);
    expect(rejudged.code, rejudged.stderr).toBe(0);
    const result = await runCli(["rejudge", "rejudged", "--output-dir", dir, "--judge-model", "judge-b", "--no-preflight"]);
    expect(result.code, result.stderr).toBe(0);
    const manifest = (await readManifest(join(dir, "rejudged", "manifest.json")))!;
    expect(manifest.pins?.["role[judge].address"]).toBe("judge-b");
    const compared = await runCli(["compare", "base", "rejudged", "--output-dir", dir]);
    expect(compared.stderr).toContain('role[judge].address: "judge" → "judge-b"');
  });

  it("a resume with changed settings says which, on the terminal and in run.log", async () => {
    const messages: string[] = [];
    const config = { dataset: join(dir, "items.jsonl"), models: ["target"], base_url: mock.url, output_dir: dir, run_id: "resumed", preflight: false, limit: 1 };
    await run(config, { env: {} });
    await run({ ...config, limit: undefined, generation: { temperature: 0.3 } }, { env: {}, reporter: { onMessage: (message) => messages.push(message) } });
    const warning = messages.find((message) => message.startsWith("warning: resuming with"));
    expect(warning).toContain("model[target].temperature: null → 0.3");
    expect(warning).toContain("dataset.limit: 1 → null");
    expect(readFileSync(join(dir, "resumed", "run.log"), "utf8")).toContain("settings_changed");
  });
});
