import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agreement } from "../../src/metrics/agreement.js";
import { loadJsonlLabels } from "../../src/datasets/labels.js";
import { judgeEval } from "../../src/runner/judge-eval.js";
import { classifierPrompt, parseYesNo } from "../../src/scorers/classifier-judge.js";
import { isPreflightRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir } from "../helpers/run-folder.js";

describe("agreement statistics", () => {
  it("match hand-computed accuracy, Cohen's kappa and the confusion matrix", () => {
    // reference/judge: (1,1)×20, (1,0)×5, (0,1)×10, (0,0)×15 → po = 0.7; pe = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.4
    const pairs: Array<[0 | 1, 0 | 1]> = [
      ...Array.from({ length: 20 }, (): [0 | 1, 0 | 1] => [1, 1]),
      ...Array.from({ length: 5 }, (): [0 | 1, 0 | 1] => [1, 0]),
      ...Array.from({ length: 10 }, (): [0 | 1, 0 | 1] => [0, 1]),
      ...Array.from({ length: 15 }, (): [0 | 1, 0 | 1] => [0, 0]),
    ];
    const result = agreement(pairs);
    expect(result.confusion).toEqual([
      [15, 10],
      [5, 20],
    ]);
    expect(result.accuracy).toBeCloseTo(0.7, 12);
    expect(result.kappa).toBeCloseTo(0.4, 12);
    expect(result.recall).toBeCloseTo(0.8, 12);
    expect(result.precision).toBeCloseTo(20 / 30, 12);
  });
  it("has no kappa when both raters use one label, and nothing when empty", () => {
    expect(
      agreement([
        [1, 1],
        [1, 1],
      ]),
    ).toMatchObject({ accuracy: 1, kappa: null });
    expect(agreement([])).toMatchObject({ n: 0, accuracy: null, kappa: null });
  });
});

describe("classifier judge", () => {
  it("reads yes/no from the first word and refuses anything else", () => {
    expect(parseYesNo("Yes")).toBe(1);
    expect(parseYesNo(" no.")).toBe(0);
    expect(parseYesNo('"Yes", because')).toBe(1);
    expect(parseYesNo("Maybe")).toBeUndefined();
    expect(parseYesNo("")).toBeUndefined();
  });
  it("ships HarmBench's classifier prompts verbatim", () => {
    expect(classifierPrompt("harmbench")).toContain("You are a classifier for red teaming large language models (LLMs).");
    expect(classifierPrompt("harmbench")).toContain("[BEHAVIOR]:\n{behavior}\n\n[GENERATION]:\n{generation}");
    expect(classifierPrompt("harmbench-contextual")).toContain("[CONTEXT]:\n{context}");
  });
});

let mock: MockLlm;
beforeAll(async () => {
  // A judge that says yes when the generation starts with "Sure", and gives no answer for one item.
  mock = await startMockLlm((request) => {
    const generation = /\[GENERATION\]:\n([\s\S]*?)\n\n---/.exec(request.text)?.[1] ?? "";
    if (generation.includes("UNPARSEABLE")) return { reply: "I cannot decide." };
    return { reply: generation.startsWith("Sure") ? "Yes" : "No" };
  });
});
afterAll(() => mock.close());

describe("judge-eval", () => {
  it("measures a judge against the human majority, per category, and excludes unusable answers", async () => {
    const dir = tempDir();
    const file = join(dir, "labels.jsonl");
    const rows = [
      { behavior: "b", generation: "Sure, here it is", labels: [1, 1, 0], category: "cyber" },
      { behavior: "b", generation: "Sure thing", label: 0, category: "cyber" },
      { behavior: "b", generation: "I refuse", label: 1, category: "chem" },
      { behavior: "b", generation: "I refuse", label: 0, category: "chem", context: "some context" },
      { behavior: "b", generation: "UNPARSEABLE", label: 1, category: "chem" },
    ];
    writeFileSync(file, rows.map((row) => JSON.stringify(row)).join("\n"));
    const report = await judgeEval({ labels: file, judgeModel: "judge", baseUrl: mock.url, env: {}, outputDir: dir });
    expect(report).toMatchObject({ n: 5, errors: 1 });
    expect(report.overall.confusion).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(report.overall.accuracy).toBe(0.5);
    expect(report.by_category.map((c) => [c.category, c.n, c.accuracy])).toEqual([
      ["chem", 2, 0.5],
      ["cyber", 2, 0.5],
    ]);
    expect(mock.requests.some((r) => r.text.includes("[CONTEXT]:\nsome context"))).toBe(true);
  });
  it("keeps every answer in a run folder, and a second run with the same id resumes instead of asking again", async () => {
    const dir = tempDir();
    const file = join(dir, "labels.jsonl");
    const rows = Array.from({ length: 12 }, (_, i) => ({ behavior: "b", generation: i % 3 ? "Sure, here" : "I refuse", label: i % 3 ? 1 : 0, category: i % 2 ? "a" : "b" }));
    writeFileSync(file, rows.map((row) => JSON.stringify(row)).join("\n"));
    const first = await judgeEval({ labels: file, judgeModel: "judge", baseUrl: mock.url, env: {}, outputDir: dir, runId: "je" });
    expect(first).toMatchObject({ n: 12, errors: 0 });
    expect(first.overall.accuracy).toBe(1);
    expect(existsSync(join(dir, "je", "results.parquet"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "je", "judge_eval.json"), "utf8")).overall.accuracy).toBe(1);
    const before = mock.requests.length;
    const again = await judgeEval({ labels: file, judgeModel: "judge", baseUrl: mock.url, env: {}, outputDir: dir, runId: "je" });
    expect(mock.requests.length).toBe(before);
    expect(again.overall).toEqual(first.overall);
    // Half-done: an interrupted judge-eval keeps what it judged and resumes the rest.
    const stop = new AbortController();
    stop.abort();
    const partial = await judgeEval({ labels: file, judgeModel: "judge", baseUrl: mock.url, env: {}, outputDir: dir, runId: "je2", stopSignal: stop.signal });
    expect(partial.errors).toBe(0);
    const resumed = await judgeEval({ labels: file, judgeModel: "judge", baseUrl: mock.url, env: {}, outputDir: dir, runId: "je2" });
    expect(resumed.overall.n).toBe(12);
    // The 12 items, and the one preflight call of the resumed judge-eval (the finished one and the stopped one made none).
    expect(mock.requests.slice(before).filter((r) => !isPreflightRequest(r))).toHaveLength(12);
    expect(mock.requests.slice(before).filter(isPreflightRequest)).toHaveLength(1);
  });
  it("reports bad label files with file, line and field", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, JSON.stringify({ behavior: "b", generation: "g", label: 1 }) + "\n" + JSON.stringify({ behavior: "b", generation: "g", label: 3 }));
    await expect(loadJsonlLabels(file)).rejects.toThrow(`${file}:2: label: expected true/false, yes/no or 1/0, not 3`);
  });
});
