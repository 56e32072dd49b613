import { describe, expect, it } from "vitest";
import { JudgingTally } from "../../src/metrics/judging/judging-summary.js";
import { judgingNotes } from "../../src/reports/judging-notes.js";
import type { ResultRow, RowScore } from "../../src/results/record.js";
import { aggregate, panelScorer } from "../../src/scorers/judge/judgings.js";
import { JudgeInvalidError } from "../../src/scorers/judge/llm-judge.js";
import type { Scorer, ScorerDeclaration } from "../../src/scorers/types.js";

const WIN: ScorerDeclaration = {
  name: "winrate_judge",
  description: "win rate",
  metrics: [
    { name: "win", label: "win", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "first_position", label: "first", kind: { type: "bounded", range: [0, 1] }, bad: "none" },
    { name: "consistent", label: "consistent", kind: { type: "rate" }, bad: "low" },
  ],
};

function row(model: string, score: RowScore): ResultRow {
  return { model_slug: model, scores: { winrate_judge: score } } as unknown as ResultRow;
}

describe("the judging block", () => {
  it("reports the share of pairs whose verdict depends on the order, per model", () => {
    const tally = new JudgingTally();
    // Four pairs for model m: two consistent, two split by position (first_position 1: both answers named A).
    const scores = [
      { consistent: 1, first_position: 0.5 },
      { consistent: 0, first_position: 1 },
      { consistent: 1, first_position: 0.5 },
      { consistent: 0, first_position: 1 },
    ];
    for (const metrics of scores) tally.add(row("m", { value: 0.5, label: null, raw: "[]", error: null, model: "j", metrics }), () => WIN);
    tally.add(row("m", { value: null, label: null, raw: "Both are fine.", error: "not A or B", model: "j" }), () => WIN);
    const block = tally.build()!;
    expect(block.position_bias).toEqual([{ scorer: "winrate_judge", by: { model: "m" }, n: 4, order_dependent: 2, share: 0.5, first_position: 0.75 }]);
    expect(block.judges).toEqual([{ scorer: "winrate_judge", judge: "j", judgings: 5, verdicts: 4, refused: 0, unparseable: 1, errors: 0 }]);
    expect(judgingNotes({ judging: block }, "winrate_judge")).toContain("position bias, m: 50.0% of 4 pairs judged differently when swapped; answer shown first picked 75.0%");
  });
  it("is absent when no judge scored", () => {
    const tally = new JudgingTally();
    tally.add(row("m", { value: 1, label: null, raw: null, error: null }), () => WIN);
    expect(tally.build()).toBeUndefined();
  });
});

describe("panel aggregation", () => {
  const rate = { kind: { type: "rate" as const } };
  it("takes the majority of a rate, a tie going to the first judge that gave a value", () => {
    expect(aggregate(rate, [1, 0, 1])).toBe(1);
    expect(aggregate(rate, [0, 1, 0])).toBe(0);
    expect(aggregate(rate, [1, 0])).toBe(1);
    expect(aggregate(rate, [null, 0, 1])).toBe(0);
    expect(aggregate(rate, [null, null])).toBeNull();
  });
  it("takes the mean of any other metric", () => {
    expect(aggregate({ kind: { type: "bounded", range: [0, 1] } }, [0.2, 0.4, null])).toBeCloseTo(0.3, 12);
  });
  it("keeps every judge's judging, a refusal among them, and scores from the others", async () => {
    const declaration: ScorerDeclaration = { name: "s", description: "s", metrics: [{ name: "s", label: "s", kind: { type: "rate" }, bad: "high" }] };
    const member = (answer: number | "refuse"): Scorer => ({
      name: "s",
      description: "s",
      needs: "judge",
      declaration,
      score: async () => {
        if (answer === "refuse") throw new JudgeInvalidError("no verdict", "I'm sorry, I can't evaluate this.", 1);
        return { value: answer, label: String(answer), raw: String(answer), error: null };
      },
    });
    const panel = panelScorer([
      { judge: "a", scorer: member("refuse") },
      { judge: "b", scorer: member(1) },
      { judge: "c", scorer: member(0) },
    ]);
    const score = await panel.score({ sample: { id: "x" }, messages: [], response: "", services: {} } as never);
    // b and c tie; a gave nothing, so b (the first that gave a value) decides.
    expect(score.value).toBe(1);
    expect(score.panel!.map((judging) => [judging.judge, judging.outcome])).toEqual([
      ["a", "refused"],
      ["b", "verdict"],
      ["c", "verdict"],
    ]);
  });
});
