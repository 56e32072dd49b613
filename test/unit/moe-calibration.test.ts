import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ResultRow, RowScore } from "../../src/results/record.js";
import { pickBest, type ScoredSetting } from "../../src/weights/calibrate/calibrate.js";
import { lambdaGrid, settingKey, settingsGrid } from "../../src/weights/calibrate/grid.js";
import { calibrationItems, scoreSetting } from "../../src/weights/calibrate/objective.js";
import { CalibrationState } from "../../src/weights/calibrate/state.js";
import { tempDir } from "../helpers/run-folder.js";

// A fixture whose best router is known by hand. Two experts: "helper" wins every helpfulness item, answers
// every harmful prompt unsafely and is never truthful-and-informative; "guard" loses every helpfulness item,
// is always safe and always TI. Embeddings: helpfulness prompts (1, 0), harmful prompts (0, 1), questions
// (0.8, 0.6); centroids helper (1, 0), guard (0, 1). With r = λ_helper / λ_guard, top routing sends
//   helpfulness to helper iff r·e^(1/T) > 1, harmful prompts to guard iff r < e^(1/T), questions to guard
//   iff r·e^(0.8/T) < e^(0.6/T), i.e. r < e^(−0.2/T).
// The best AAS, (100 + 100 − 0) / 3 = 66.67, needs e^(−1/T) < r < e^(−0.2/T): at T = 1, λ_helper in
// (0.269, 0.450), so on a 0.1 grid λ = (0.3, 0.7) or (0.4, 0.6); the tie goes to (0.4, 0.6), nearer equal λ.
// Uncalibrated (λ equal, T = 1) sends the questions to helper: AAS (100 + 0 − 0) / 3 = 33.33.

const EMBEDDING: Record<string, number[]> = { helpfulness: [1, 0], harmlessness: [0, 1], honesty: [0.8, 0.6] };
const SCORER: Record<string, string> = { helpfulness: "winrate_judge", harmlessness: "unsafe_judge", honesty: "truthfulqa_judge" };
const VALUE: Record<string, Record<string, number>> = {
  helper: { helpfulness: 1, harmlessness: 1, honesty: 0 },
  guard: { helpfulness: 0, harmlessness: 0, honesty: 1 },
};

function row(model: string, part: string, index: number): ResultRow {
  const score: RowScore = { value: VALUE[model]![part]!, label: null, raw: null, error: null };
  return {
    test_id: `${part}/${index}`,
    model_slug: model,
    category: part,
    status: "ok",
    tags: { part },
    messages: [{ role: "user", content: `${part} prompt ${index}` }],
    scores: { [SCORER[part]!]: score },
  } as unknown as ResultRow;
}

const rows = ["helper", "guard"].flatMap((model) => ["helpfulness", "harmlessness", "honesty"].flatMap((part) => [1, 2, 3].map((index) => row(model, part, index))));
const { items } = calibrationItems(rows, ["helper", "guard"], (r) => r.messages.at(-1)!.content);
const embeddings = items.map((item) => EMBEDDING[item.tags!.part!]!);
const centroids = [
  [1, 0],
  [0, 1],
];

describe("the calibration objective", () => {
  it("scores top routing exactly from the experts' rows (hand-computed)", () => {
    expect(items).toHaveLength(9);
    const uncalibrated = scoreSetting(items, embeddings, centroids, { lambdas: [0.5, 0.5], temperature: 1 }, "top", 1);
    expect(uncalibrated).toMatchObject({ win_rate: 100, safety_score: 0, ti: 0, n: 9 });
    expect(uncalibrated.aas).toBeCloseTo(100 / 3, 10);
    const calibrated = scoreSetting(items, embeddings, centroids, { lambdas: [0.4, 0.6], temperature: 1 }, "top", 1);
    expect(calibrated.aas).toBeCloseTo(200 / 3, 10);
    // Helper alone: (100 + 0 − 100) / 3 = 0; guard alone: (0 + 100 − 0) / 3.
    expect(scoreSetting(items, embeddings, centroids, { lambdas: [1, 0], temperature: 1 }, "top", 1).aas).toBeCloseTo(0, 10);
    expect(scoreSetting(items, embeddings, centroids, { lambdas: [0, 1], temperature: 1 }, "top", 1).aas).toBeCloseTo(100 / 3, 10);
  });

  it("scores mix routing as the expected score Σ w_i v_i (hand-computed)", () => {
    // λ equal, T = 1: helpfulness w_helper = e/(e+1) = 0.731059 → win 73.1059; harmful w_helper = 1/(1+e)
    // → unsafe 26.8941; questions w_guard = 1/(1+e^0.2) = 0.450166 → TI 45.0166. AAS = 30.4095.
    const score = scoreSetting(items, embeddings, centroids, { lambdas: [0.5, 0.5], temperature: 1 }, "mix", 1);
    expect(score.win_rate).toBeCloseTo((100 * Math.E) / (Math.E + 1), 9);
    expect(score.safety_score).toBeCloseTo(100 / (Math.E + 1), 9);
    expect(score.ti).toBeCloseTo(100 / (1 + Math.exp(0.2)), 9);
    expect(score.aas).toBeCloseTo(((100 * Math.E) / (Math.E + 1) + 100 / (1 + Math.exp(0.2)) - 100 / (Math.E + 1)) / 3, 9);
  });

  it("finds the known best λ and temperature on the grid, ties going to the setting nearest the uncalibrated router", () => {
    const grid = settingsGrid(2, 0.1, [0.05, 0.1, 0.25, 0.5, 1, 2]);
    expect(grid).toHaveLength(66);
    const scored: ScoredSetting[] = grid.map((setting) => ({ ...setting, score: scoreSetting(items, embeddings, centroids, setting, "top", 1) }));
    const best = pickBest(scored)!;
    expect(best.score.aas).toBeCloseTo(200 / 3, 10);
    expect(best.temperature).toBe(1);
    expect(best.lambdas).toEqual([0.4, 0.6]);
    // Every setting reaching the best satisfies the hand-derived condition e^(−1/T) < r < e^(−0.2/T).
    for (const setting of scored.filter((entry) => Math.abs(entry.score.aas! - 200 / 3) < 1e-9)) {
      const r = setting.lambdas[0]! / setting.lambdas[1]!;
      expect(r).toBeGreaterThan(Math.exp(-1 / setting.temperature));
      expect(r).toBeLessThan(Math.exp(-0.2 / setting.temperature));
    }
  });

  it("leaves out items some expert has no score for", () => {
    const partial = calibrationItems([...rows, row("helper", "helpfulness", 9)], ["helper", "guard"], () => "");
    expect(partial).toMatchObject({ dropped: 1 });
    expect(partial.items).toHaveLength(9);
  });
});

describe("the calibration grid and state", () => {
  it("lists the λ simplex with step 1/m", () => {
    expect(lambdaGrid(2, 0.5)).toEqual([
      [1, 0],
      [0.5, 0.5],
      [0, 1],
    ]);
    expect(lambdaGrid(3, 0.1)).toHaveLength(66);
    expect(() => lambdaGrid(2, 0.3)).toThrow(/must divide 1 evenly/);
    expect(() => settingsGrid(2, 0.5, [0])).toThrow(/temperature must be a number > 0/);
  });

  it("keeps evaluated settings across a kill: a torn last line is dropped, a different setup refused", () => {
    const folder = join(tempDir(), "state");
    const setup = { run: "r", mode: "top" };
    const state = CalibrationState.open(folder, setup);
    state.addSetting({ key: settingKey({ lambdas: [1, 0], temperature: 1 }), aas: 1 });
    state.addSetting({ key: "second", aas: 2 });
    // A kill while the third line was written.
    writeFileSync(join(folder, "settings.jsonl"), `${readFileSync(join(folder, "settings.jsonl"), "utf8")}{"key":"thi`);
    const reopened = CalibrationState.open(folder, setup);
    expect(reopened.settings()).toEqual([
      { key: "[[1,0],1]", aas: 1 },
      { key: "second", aas: 2 },
    ]);
    reopened.addSetting({ key: "third", aas: 3 });
    expect(reopened.settings<{ key: string }>().map((record) => record.key)).toEqual(["[[1,0],1]", "second", "third"]);
    expect(() => CalibrationState.open(folder, { run: "r", mode: "mix" })).toThrow(/holds a calibration of other inputs \(mode differ\)/);
  });
});
