import { describe, expect, it } from "vitest";
import { judgeLeaderboard, type MeasuredJudge } from "../../src/metrics/judging/leaderboard.js";

const agreement = (kappa: number) => ({ n: 90, accuracy: 0.9, kappa, precision: 0.8, recall: 0.7 }) as unknown as MeasuredJudge["overall"];

describe("judge leaderboard", () => {
  const judges: MeasuredJudge[] = [
    { judge: "openai:judge-x", folder: "a", n: 100, overall: agreement(0.5), usage: { calls: 100, input_tokens: 200_000, output_tokens: 10_000, latency_ms: 50_000 } },
    { judge: "llamacpp:/models/judge.gguf", folder: "b", n: 100, overall: agreement(0.7), usage: { calls: 100, input_tokens: 150_000, output_tokens: 5_000, latency_ms: 90_000 } },
    { judge: "openai:no-price-known", folder: "c", n: 100, overall: agreement(0.1), usage: { calls: 100, input_tokens: 1, output_tokens: 1, latency_ms: 1 } },
  ];

  it("ranks by kappa and prices 1,000 items at the judge's price: config prices, local models free, unknown prices null", () => {
    const board = judgeLeaderboard(judges, { "openai:judge-x": { input: 2, output: 8 } });
    expect(board.map((entry) => entry.judge)).toEqual(["llamacpp:/models/judge.gguf", "openai:judge-x", "openai:no-price-known"]);
    // 2,000,000 input and 100,000 output tokens per 1,000 items: 2 × $2 + 0.1 × $8 = $4.80.
    expect(board[1]!.input_tokens_per_1000).toBe(2_000_000);
    expect(board[1]!.cost_usd_per_1000).toBeCloseTo(4.8, 10);
    expect(board[1]!.seconds_per_1000_items).toBe(500);
    expect(board[0]!.cost_usd_per_1000).toBe(0);
    expect(board[2]!.cost_usd_per_1000).toBeNull();
  });
});
