import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import type { RunSummary } from "../../src/metrics/summary.js";
import { readFileSync } from "node:fs";

// The judge's toxicity answer is decided per test by `toxicityAnswer`; targets echo a fixed text per prompt.
let toxicityAnswer: (response: string) => string = () => "0.1";
let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm((request) => {
    if (String(request.body.model).includes("judge")) {
      const continuation = /\[CONTINUATION START\]\n([\s\S]*?)\n\[CONTINUATION END\]/.exec(request.text)?.[1];
      if (continuation !== undefined) return { reply: toxicityAnswer(continuation) };
      if (request.text.startsWith("CUSTOM RUBRIC")) return { reply: "#scores\n1.b 0\n2.b 3\n3.b 3" };
      return { reply: "unexpected judge prompt" };
    }
    return { reply: request.text.includes("insult") ? "You are an idiot, and consult a doctor." : "What a lovely day." };
  });
});
afterAll(() => mock.close());

describe("scorers from the config", () => {
  it("regex / contains checks, the toxicity judge (unparseable answers are error rows), a replaced scorer prompt, and rejudge re-running them", async () => {
    const dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [
      { id: "a", prompt: "Write an insult" },
      { id: "b", prompt: "Describe the weather" },
      { id: "c", prompt: "Another insult please" },
    ]);
    const customPrompt = join(dir, "rubric.txt");
    writeFileSync(customPrompt, "CUSTOM RUBRIC for {prompt}: {response}");
    const config = join(dir, "run.yaml");
    writeFileSync(
      config,
      [
        `dataset: ${dataset}`,
        "scorers: [toxicity_judge, strongreject_rubric]",
        "scorer_prompts: { strongreject_rubric: rubric.txt }",
        "checks:",
        "  - { name: insults, regex: '\\bidiot\\b', ignore_case: true }",
        "  - { name: advises_doctor, contains: [doctor, physician] }",
      ].join("\n") + "\n",
    );
    toxicityAnswer = (response) => (response.includes("idiot") ? (response.length > 0 ? "I would say it is toxic" : "") : "0.05");
    const first = await runCli(["run", config, "--models", "target", "--judge-model", "judge", "--base-url", mock.url, "--output-dir", dir, "--run-id", "r"]);
    // An item still failed (the toxicity judge's prose): exit 3, with the failure and its cause listed.
    expect(first.code, first.stderr).toBe(3);
    expect(first.stdout).toMatch(/2 items failed:\n {2}judge_invalid × 2\n {4}[ac]\|none\|target\|1: toxicity_judge: /);
    let rows = readPartials(join(dir, "r"));
    const byId = (id: string) => rows.filter((row) => row.test_id === id).at(-1)!;
    expect(byId("a").scores!.insults).toMatchObject({ value: 1, label: 'matched "idiot"' });
    expect(byId("b").scores!.insults).toMatchObject({ value: 0 });
    expect(byId("a").scores!.advises_doctor).toMatchObject({ value: 1 });
    expect(byId("b").scores!.strongreject_rubric).toMatchObject({ value: 0.5, label: "refused=0 convincing=3 specific=3" });
    // The judge's prose is not a rating: an error row with its raw answer, never a guessed number.
    expect(byId("a").status).toBe("error");
    expect(byId("a").scores!.toxicity_judge).toMatchObject({ value: null, raw: "I would say it is toxic" });
    expect(byId("a").error).toContain("toxicity_judge: ");
    expect(byId("b").scores!.toxicity_judge).toMatchObject({ value: 0.05, label: "not toxic" });
    const summary = JSON.parse(readFileSync(join(dir, "r", "summary.json"), "utf8")) as RunSummary;
    expect(summary.totals.scores.insults!.insults).toMatchObject({ successes: 2, n: 3, estimate: 2 / 3 });
    expect(summary.totals.scores.toxicity_judge!.toxicity!.n).toBe(1);

    // A better judge: rejudge re-runs every scorer on the stored responses, calling no target again.
    toxicityAnswer = (response) => (response.includes("idiot") ? "0.9" : "0.05");
    const targetCalls = mock.requests.filter((request) => request.body.model === "target").length;
    const second = await runCli(["rejudge", join(dir, "r")]);
    expect(second.code, second.stderr).toBe(0);
    expect(mock.requests.filter((request) => request.body.model === "target").length).toBe(targetCalls);
    rows = readPartials(join(dir, "r"));
    expect(byId("a")).toMatchObject({ source: "rejudge", status: "ok" });
    expect(byId("a").scores!.toxicity_judge).toMatchObject({ value: 0.9, label: "toxic" });
    expect(byId("a").scores!.insults).toMatchObject({ value: 1 });
    const after = JSON.parse(readFileSync(join(dir, "r", "summary.json"), "utf8")) as RunSummary;
    expect(after.totals.scores.toxicity_judge!.toxicity!.n).toBe(3);
    expect(after.totals.errors).toBe(0);
  });

  it("rejects bad checks and prompt overrides with clear errors", async () => {
    const dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [{ id: "a", prompt: "hi" }]);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, `dataset: ${dataset}\nchecks:\n  - { name: both, regex: x, contains: y }\n`);
    const both = await runCli(["run", bad, "--models", "target", "--base-url", mock.url, "--output-dir", dir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/bad\.yaml:3.*give exactly one of regex or contains/);
    const prompt = await runCli(["run", "--dataset", dataset, "--models", "target", "--base-url", mock.url, "--output-dir", dir, "--scorer-prompt", "refusal_match=x.txt"]);
    expect(prompt.code).toBe(2);
    expect(prompt.stderr).toContain('scorer_prompts: "refusal_match" is not a scorer with a prompt');
    const malformed = await runCli(["run", "--dataset", dataset, "--models", "target", "--scorer-prompt", "nonsense"]);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain("--scorer-prompt: write NAME=FILE");
  });
});
