import { describe, expect, it } from "vitest";
import type { RowScore } from "../../src/results/record.js";
import { scoreField, scoresWithDeclared, scoresWithoutDeclared } from "../../src/results/score-columns.js";
import { VERDICT_DECLARATION } from "../../src/scorers/verdict.js";

const verdict: RowScore = {
  value: 1,
  label: "attack succeeded",
  raw: '{"attack_success":true}',
  error: null,
  metrics: { overall: 0.1, safety_score: 0.2 },
  data: { attack_success: true, safety: { score: 0.2 } },
  model: "judge",
  calls: 2,
  usage: { input_tokens: 10, output_tokens: 3 },
  latency_ms: 12.5,
};

describe("declared score columns", () => {
  it("are written once: the scores JSON leaves them out, and reading puts them back exactly", () => {
    const scores = { verdict, other: { value: 0.5, label: null, raw: null, error: null } };
    const stored = scoresWithoutDeclared(scores, [VERDICT_DECLARATION])!;
    expect(stored.verdict).toEqual({ label: "attack succeeded", error: null });
    expect(stored.other).toBe(scores.other);
    // What results.parquet's declared columns hold for this row.
    const row: Record<string, unknown> = {};
    for (const [column, { from, type }] of Object.entries(VERDICT_DECLARATION.columns!)) {
      const value = scoreField(verdict, from);
      row[column] = type === "BOOLEAN" ? value === 1 : value;
    }
    expect(row.attack_success).toBe(true);
    expect(scoresWithDeclared(stored, row, [VERDICT_DECLARATION])).toEqual(scores);
  });
  it("leave scores without declared columns, and rows without the scorer, as they are", () => {
    const scores = { other: { value: 1, label: null, raw: null, error: null } };
    expect(scoresWithoutDeclared(scores, [VERDICT_DECLARATION])).toBe(scores);
    expect(scoresWithoutDeclared(null, [VERDICT_DECLARATION])).toBeNull();
    expect(scoresWithDeclared(scores, { attack_success: true }, [VERDICT_DECLARATION])).toEqual(scores);
  });
});
