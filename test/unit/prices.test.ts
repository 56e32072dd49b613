import { describe, expect, it } from "vitest";
import { pricedUsage } from "../../src/metrics/cost.js";
import { PRICE_TABLE } from "../../src/metrics/price-table.js";
import { priceOf, runPrices } from "../../src/metrics/prices.js";
import type { UsageEntry } from "../../src/metrics/usage.js";
import { costLine } from "../../src/reports/cost-line.js";

const latency = { mean: null, p50: null, p95: null };

describe("prices", () => {
  it("the table is dated and sourced, and every line is a price per million tokens", () => {
    expect(PRICE_TABLE.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICE_TABLE.sources.length).toBeGreaterThan(0);
    for (const [id, price] of Object.entries(PRICE_TABLE.models)) {
      expect(price.input, id).toBeGreaterThan(0);
      expect(price.output, id).toBeGreaterThanOrEqual(price.input);
    }
  });

  it("matches the longest table id that prefixes the model id, at a boundary", () => {
    expect(priceOf("gpt-4.1")).toEqual({ input: 2, output: 8, source: "table" });
    expect(priceOf("gpt-4.1-mini-2025-04-14")).toEqual({ input: 0.4, output: 1.6, source: "table" });
    expect(priceOf("openai:gpt-4o-mini")).toEqual({ input: 0.15, output: 0.6, source: "table" });
    expect(priceOf("openrouter:anthropic/claude-sonnet-4", { provider: "openrouter", model_id: "anthropic/claude-sonnet-4" })).toEqual({ input: 3, output: 15, source: "table" });
    expect(priceOf("anthropic:claude-3-5-haiku-20241022", { provider: "anthropic", model_id: "claude-3-5-haiku-20241022" })).toEqual({ input: 0.8, output: 4, source: "table" });
    expect(priceOf("o3-mini")?.input).toBe(1.1);
    // Not a boundary: no guess.
    expect(priceOf("gpt-4.1x")).toBeUndefined();
    expect(priceOf("my-finetune")).toBeUndefined();
  });

  it("the config's prices win, by address or model id; local models are free", () => {
    expect(priceOf("gpt-4.1", {}, { "gpt-4.1": { input: 1, output: 2 } })).toEqual({ input: 1, output: 2, source: "config" });
    expect(priceOf("vllm:llama-3-70b", { provider: "vllm", model_id: "llama-3-70b" }, { "llama-3-70b": { input: 0.5, output: 0.5 } })?.source).toBe("config");
    expect(priceOf("llamacpp:./m.gguf", { provider: "llamacpp", model_id: "./m.gguf" })).toEqual({ input: 0, output: 0, source: "local" });
    const prices = runPrices({
      models: [{ address: "gpt-4.1-mini", provider: "openai", model_id: "gpt-4.1-mini", options: {}, max_concurrency: null, rate_limit_rps: null }],
      roles: { judge: { address: "judge-x", provider: "openai", model_id: "judge-x", options: {} } },
      config: { prices: { "judge-x": { input: 10, output: 20 } } },
    });
    expect(prices).toEqual({ "gpt-4.1-mini": { input: 0.4, output: 1.6, source: "table" }, "judge-x": { input: 10, output: 20, source: "config" } });
  });

  it("costs usage entries by hand-computed arithmetic, and names unpriced models instead of counting them as free", () => {
    const entries: UsageEntry[] = [
      { model: "gpt-4.1-mini", role: "target", scorer: null, calls: 3, input_tokens: 1_000_000, output_tokens: 250_000, latency_ms: latency },
      { model: "judge-x", role: "judge", scorer: "verdict", calls: 3, input_tokens: 30_000, output_tokens: 1_500, latency_ms: latency },
      { model: "mystery", role: "baseline", scorer: null, calls: 1, input_tokens: 10, output_tokens: 10, latency_ms: latency },
    ];
    const { usage, cost } = pricedUsage(entries, { "gpt-4.1-mini": { input: 0.4, output: 1.6, source: "table" }, "judge-x": { input: 10, output: 20, source: "config" } });
    // 1e6 × 0.4/1e6 + 2.5e5 × 1.6/1e6 = 0.4 + 0.4 = 0.8;  3e4 × 10/1e6 + 1.5e3 × 20/1e6 = 0.3 + 0.03 = 0.33
    expect(usage.map((entry) => entry.cost_usd)).toEqual([0.8, expect.closeTo(0.33, 12), null]);
    expect(cost).toMatchObject({ total_usd: expect.closeTo(1.13, 12), partial: true, unpriced_models: ["mystery"], price_table_date: PRICE_TABLE.date });
    expect(costLine({ usage, cost: cost! })!.split("\n")).toEqual([
      `7 calls · 1,030,010 input and 251,510 output tokens · cost $1.13 at least (price table of ${PRICE_TABLE.date}; no price for mystery (add it under prices: in the config))`,
      "  gpt-4.1-mini (target): 3 calls, 1,000,000 in, 250,000 out, $0.8000",
      "  judge-x (judge, verdict): 3 calls, 30,000 in, 1,500 out, $0.3300",
      "  mystery (baseline): 1 calls, 10 in, 10 out, no price",
    ]);
    expect(costLine({ usage: usage.slice(0, 1), cost: { ...cost!, total_usd: 0.8, partial: false, unpriced_models: [] } })).toBe(
      `3 calls · 1,000,000 input and 250,000 output tokens · cost $0.8000 (price table of ${PRICE_TABLE.date})`,
    );
  });
});
