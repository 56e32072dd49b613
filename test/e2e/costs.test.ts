import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/metrics/summary-types.js";
import { run } from "../../src/runner/run.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, judgedId, startMockLlm, verdict, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// Tokens and dollars of a real run against a loopback mock that bills each request (a quarter of its
// characters, rounded up: test/helpers/mock-llm.ts): the summary's costs equal the bill at the prices, and
// --max-cost stops a run at its budget, which a resume then finishes without redoing a row.

describe("costs", () => {
  let mock: MockLlm;
  const billed: Array<{ request: MockRequest; input: number; output: number }> = [];
  let dataset: string;
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      const reply = isJudgeRequest(request) ? verdict(judgedId(request), false) : `answer ${"y".repeat(40)}`;
      billed.push({ request, input: Math.ceil(request.text.length / 4), output: Math.ceil(reply.length / 4) });
      return { reply };
    });
    dataset = join(tempDir(), "items.jsonl");
    writeJsonl(
      dataset,
      Array.from({ length: 8 }, (_, index) => ({ id: `i${index}`, prompt: `Question ${index}: ${"word ".repeat(20)}` })),
    );
  });
  afterAll(async () => {
    await mock?.close();
  });

  it("summary.json costs every (model, role, scorer) at its price: the table's for a known id, the config's for another", async () => {
    const dir = tempDir();
    billed.length = 0;
    await run(
      { dataset, models: ["gpt-4.1-mini"], judge_model: "house-judge", base_url: mock.url, output_dir: dir, run_id: "c", preflight: false, prices: { "house-judge": { input: 3, output: 12 } } },
      { env: {} },
    );
    const summary = JSON.parse(readFileSync(join(dir, "c", "summary.json"), "utf8")) as RunSummary;
    const tokens = (judge: boolean) => {
      const entries = billed.filter((entry) => isJudgeRequest(entry.request) === judge);
      return { input: entries.reduce((sum, entry) => sum + entry.input, 0), output: entries.reduce((sum, entry) => sum + entry.output, 0) };
    };
    const target = tokens(false);
    const judge = tokens(true);
    const targetCost = (target.input * 0.4 + target.output * 1.6) / 1e6;
    const judgeCost = (judge.input * 3 + judge.output * 12) / 1e6;
    expect(summary.usage?.map((entry) => [entry.model, entry.role, entry.cost_usd])).toEqual([
      ["gpt-4.1-mini", "target", expect.closeTo(targetCost, 12)],
      ["house-judge", "judge", expect.closeTo(judgeCost, 12)],
    ]);
    expect(summary.cost).toMatchObject({
      total_usd: expect.closeTo(targetCost + judgeCost, 12),
      partial: false,
      unpriced_models: [],
      prices: { "gpt-4.1-mini": { input: 0.4, output: 1.6, source: "table" }, "house-judge": { input: 3, output: 12, source: "config" } },
    });
  });

  it("--max-cost stops the run cleanly at the budget; a resume with a larger budget finishes it", async () => {
    const dir = tempDir();
    billed.length = 0;
    // One item at a time, at $1 per thousand tokens either way: each item costs its tokens / 1000 dollars.
    const config = { dataset, models: ["metered"], base_url: mock.url, output_dir: dir, run_id: "m", concurrency: 1, preflight: false, prices: { metered: { input: 1000, output: 1000 } } };
    const stopped = await run({ ...config, max_cost: 0.05 }, { env: {} });
    const perItem = (billed[0]!.input + billed[0]!.output) / 1000;
    // The budget is reached by the row that crosses it: ceil(0.05 / cost per item) rows run, no more.
    const expected = Math.ceil(0.05 / perItem);
    expect(expected).toBeLessThan(8);
    expect(stopped).toMatchObject({ interrupted: true, stoppedBy: "max_cost", counts: { ok: expected, error: 0 } });
    expect(stopped.sessionCostUsd).toBeGreaterThanOrEqual(0.05);
    expect(billed).toHaveLength(expected);
    expect(readFileSync(join(dir, "m", "run.log"), "utf8")).toContain("max_cost_reached");

    const resumed = await run({ ...config, max_cost: 10 }, { env: {} });
    expect(resumed).toMatchObject({ interrupted: false, counts: { ok: 8, error: 0 } });
    expect(resumed.stoppedBy).toBeUndefined();
    expect(billed).toHaveLength(8); // nothing asked twice
  });

  it("the terminal prints calls, tokens and cost after the summary, per model and role", async () => {
    const dir = tempDir();
    const result = await runCli([
      "run",
      "--dataset",
      dataset,
      "--models",
      "gpt-4.1-mini",
      "--judge-model",
      "house-judge",
      "--base-url",
      mock.url,
      "--output-dir",
      dir,
      "--run-id",
      "t",
      "--no-preflight",
      "--no-progress",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, "t", "summary.json"), "utf8")) as RunSummary;
    const target = summary.usage!.find((entry) => entry.role === "target")!;
    expect(result.stdout).toContain(`cost $${summary.cost!.total_usd.toFixed(4)} at least (price table of `);
    expect(result.stdout).toContain("no price for house-judge");
    expect(result.stdout).toContain(
      `  gpt-4.1-mini (target): 8 calls, ${target.input_tokens.toLocaleString("en-US")} in, ${target.output_tokens.toLocaleString("en-US")} out, $${target.cost_usd!.toFixed(4)}`,
    );
    expect(result.stdout).toContain("  house-judge (judge, verdict): 8 calls");
  });
});
