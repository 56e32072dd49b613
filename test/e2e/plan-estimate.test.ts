import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { DEFAULT_JUDGE_MAX_TOKENS } from "../../src/runner/defaults.js";
import { estimateRun } from "../../src/runner/estimate.js";
import { DEFAULT_JUDGE_PROMPT } from "../../src/scorers/judge/default-prompt.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm } from "../helpers/mock-llm.js";
import { needs } from "../helpers/requirements.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// `alignbench plan`: what a run would ask, computed by hand here for a small dataset. Nothing may be called:
// the endpoint is a live loopback mock that counts requests.

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
afterAll(() => disposeLocalModels());

function dataset(): string {
  const file = join(tempDir(), "items.jsonl");
  writeJsonl(file, [
    { id: "a", prompt: "x".repeat(40) },
    { id: "b", prompt: "y".repeat(80) },
    { id: "c", prompt: "z".repeat(120) },
  ]);
  return file;
}

describe("alignbench plan", () => {
  it("counts items, calls, tokens, cost and time by hand-checkable arithmetic, calling nothing", async () => {
    const mock = await startMockLlm(() => ({ reply: "never" }));
    try {
      const estimate = await estimateRun(
        { dataset: dataset(), models: ["gpt-4.1-mini"], judge_model: "gpt-4.1", base_url: mock.url, epochs: 2, generation: { max_tokens: 100 }, rate_limit_rps: 2 },
        {},
      );
      expect(mock.requests).toHaveLength(0);
      expect(estimate).toMatchObject({ rows: 3, itemsPerRow: 2, items: 6, plan: "generate" });
      const [target, judge] = estimate.roles;
      // 240 characters / 4 = 60 tokens per pass, 2 epochs; 6 calls of at most 100 tokens; $0.4 and $1.6 per million.
      expect(target).toEqual({
        role: "target",
        model: "gpt-4.1-mini",
        calls: 6,
        callsAtLeast: false,
        inputTokens: 120,
        tokenizer: "estimate",
        outputTokensAtMost: 600,
        costAtMost: expect.closeTo((120 * 0.4 + 600 * 1.6) / 1e6, 15),
        priceSource: "table",
        secondsAtRateLimit: 3,
      });
      // The judge reads the prompt (80 characters on average), a response of at most 100 tokens (~400 characters) and its prompt.
      const judgeInput = Math.ceil(((80 + 400 + DEFAULT_JUDGE_PROMPT.length) * 6) / 4);
      expect(judge).toMatchObject({ role: "judge", model: "gpt-4.1", calls: 6, callsAtLeast: true, inputTokens: judgeInput, outputTokensAtMost: 6 * DEFAULT_JUDGE_MAX_TOKENS, secondsAtRateLimit: 3 });
      expect(judge!.costAtMost).toBeCloseTo((judgeInput * 2 + 6 * DEFAULT_JUDGE_MAX_TOKENS * 8) / 1e6, 15);
      expect(estimate.totalCostAtMost).toBeCloseTo(target!.costAtMost! + judge!.costAtMost!, 15);
      expect(estimate.costPartial).toBe(false);

      const cli = await runCli(["plan", "--dataset", dataset(), "--models", "house-model", "--base-url", mock.url, "--personas", "evil_confidant"]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toContain("3 row(s) × 1 work item(s) per row = 3 item(s), plan generate");
      expect(cli.stdout).toMatch(/target\s+house-model\s+3\s+~\d+ \(estimate\)\s+1,536\s+no price\s+no rate limit set/);
      expect(cli.stdout).toContain("cost: unknown (no model has a price)");
      expect(mock.requests).toHaveLength(0);
    } finally {
      await mock.close();
    }
  });

  it.skipIf(!needs("llama") || !existsSync(STORIES))("counts a local model's input tokens with its own tokenizer", async () => {
    const file = dataset();
    const address = `llamacpp:${STORIES}`;
    const estimate = await estimateRun({ dataset: file, models: [address], providers: { llamacpp: { gpu: false, threads: 1 } } }, {});
    const model = new ModelRegistry({ env: {}, providers: { llamacpp: { gpu: false, threads: 1 } } }).resolve(address).model;
    let tokens = 0;
    for (const text of ["x".repeat(40), "y".repeat(80), "z".repeat(120)]) tokens += (await model.tokenize!(text)).ids.length;
    expect(estimate.roles[0]).toMatchObject({ tokenizer: "model", inputTokens: tokens, costAtMost: 0, priceSource: "local" });
  });
});
