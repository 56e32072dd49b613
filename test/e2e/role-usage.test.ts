import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/metrics/summary-types.js";
import { buildReportData } from "../../src/reports/report-data.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, judgedId, startMockLlm, verdict, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// Tokens and cost include the judge's calls (its repairs too): summary.json and the report count exactly
// the tokens the mock server billed, per model and role.

describe("usage per model and role in a real run", () => {
  let mock: MockLlm;
  const billed: Array<{ request: MockRequest; input: number; output: number }> = [];
  let folder: string;
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      const judge = isJudgeRequest(request);
      const id = judgedId(request);
      // i2's first verdict has no JSON: one repair call.
      const reply = !judge ? `answer ${"x".repeat(request.n % 7)}` : id === "i2" && (request.body.messages as unknown[]).length === 1 ? "no verdict here" : verdict(id, false);
      // The mock's own usage: a quarter of the characters, rounded up (test/helpers/mock-llm.ts).
      billed.push({ request, input: Math.ceil(request.text.length / 4), output: Math.ceil(reply.length / 4) });
      return { reply };
    });
    const dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(
      dataset,
      ["i1", "i2", "i3", "i4"].map((id) => ({ id, prompt: `Question ${id}: ${"long ".repeat(Number(id.slice(1)) * 5)}` })),
    );
    const results = join(dir, "results");
    const run = await runCli(["run", "--dataset", dataset, "--models", "target-model", "--judge-model", "judge", "--base-url", mock.url, "--no-preflight", "--output-dir", results, "--run-id", "u"]);
    expect(run.code, run.stderr).toBe(0);
    folder = join(results, "u");
  });
  afterAll(async () => {
    await mock?.close();
  });

  const sum = (entries: typeof billed) => ({
    calls: entries.length,
    input_tokens: entries.reduce((total, entry) => total + entry.input, 0),
    output_tokens: entries.reduce((total, entry) => total + entry.output, 0),
  });

  it("summary.json counts the target's and the judge's calls and tokens as the server billed them", () => {
    const summary = JSON.parse(readFileSync(join(folder, "summary.json"), "utf8")) as RunSummary;
    const judge = billed.filter((entry) => isJudgeRequest(entry.request));
    const target = billed.filter((entry) => !isJudgeRequest(entry.request));
    expect(judge).toHaveLength(5);
    expect(summary.usage?.map(({ model, role, scorer, calls, input_tokens, output_tokens }) => ({ model, role, scorer, calls, input_tokens, output_tokens }))).toEqual([
      { model: "judge", role: "judge", scorer: "verdict", ...sum(judge) },
      { model: "target-model", role: "target", scorer: null, ...sum(target) },
    ]);
  });

  it("the report prices each (model, role) with --price", async () => {
    const data = await buildReportData([folder], { prices: { judge: { input: 2, output: 10 }, "target-model": { input: 0.5, output: 1 } } });
    const [judgeRow, targetRow] = data.runs[0]!.usage;
    const judge = sum(billed.filter((entry) => isJudgeRequest(entry.request)));
    const target = sum(billed.filter((entry) => !isJudgeRequest(entry.request)));
    expect(judgeRow!.cost_usd).toBeCloseTo((judge.input_tokens * 2 + judge.output_tokens * 10) / 1e6, 12);
    expect(targetRow!.cost_usd).toBeCloseTo((target.input_tokens * 0.5 + target.output_tokens * 1) / 1e6, 12);
  });
});
