import { describe, expect, it } from "vitest";
import { bootstrapInterval, clusteredMean, clusteredMeanFromSums } from "../../src/metrics/clustered.js";
import { compareRuns, type ComparedRow } from "../../src/metrics/compare-runs.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";
import { VERDICT_DECLARATION } from "../../src/scorers/verdict.js";
import { erfc, mcnemar, pairedDifference } from "../../src/metrics/paired.js";

describe("clustered standard errors", () => {
  it("match a hand-computed CR1 value", () => {
    // values 1,2 in cluster a; 3,6 in cluster b: mean 3; cluster sums of deviations -3 and +3
    // SE = sqrt(2/1 · (9 + 9)) / 4 = 6/4 = 1.5; t(0.975, 1) = 12.706
    const estimate = clusteredMean([1, 2, 3, 6], ["a", "a", "b", "b"]);
    expect(estimate.estimate).toBe(3);
    expect(estimate.stderr).toBeCloseTo(1.5, 12);
    expect(estimate.ci95![1]).toBeCloseTo(3 + 12.7062 * 1.5, 2);
    expect(estimate.clusters).toBe(2);
  });
  it("equal the usual standard error when every item is its own cluster", () => {
    const values = [0.1, 0.4, 0.35, 0.8, 0.5];
    const estimate = clusteredMean(values, ["1", "2", "3", "4", "5"]);
    const mean = 0.43;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / 4);
    expect(estimate.stderr).toBeCloseTo(sd / Math.sqrt(5), 12);
  });
  it("give the same answer from per-cluster sums as from the values", () => {
    const fromValues = clusteredMean([1, 2, 3, 6, 0.5], ["a", "a", "b", "b", "c"]);
    const fromSums = clusteredMeanFromSums([
      { n: 2, sum: 3 },
      { n: 2, sum: 9 },
      { n: 1, sum: 0.5 },
    ]);
    expect(fromSums.estimate).toBeCloseTo(fromValues.estimate!, 12);
    expect(fromSums.stderr).toBeCloseTo(fromValues.stderr!, 12);
    expect(fromSums.ci95).toEqual(fromValues.ci95);
    expect(clusteredMeanFromSums([])).toMatchObject({ estimate: null, n: 0 });
  });
  it("handle empty input and a single cluster", () => {
    expect(clusteredMean([], [])).toMatchObject({ estimate: null, n: 0 });
    expect(clusteredMean([1, 2], ["x", "x"])).toMatchObject({ estimate: 1.5, stderr: null, ci95: null, clusters: 1 });
  });
});

describe("bootstrap", () => {
  it("is reproducible and brackets the estimate", () => {
    const values = Array.from({ length: 50 }, (_, i) => (i % 7) / 7);
    const mean = (sample: number[]) => sample.reduce((s, v) => s + v, 0) / sample.length;
    const one = bootstrapInterval(values, mean, { seed: 5 });
    const two = bootstrapInterval(values, mean, { seed: 5 });
    expect(one).toEqual(two);
    expect(one.ci95![0]).toBeLessThan(one.estimate!);
    expect(one.ci95![1]).toBeGreaterThan(one.estimate!);
    expect(bootstrapInterval([3], mean)).toMatchObject({ estimate: 3, ci95: null });
    expect(bootstrapInterval([], mean)).toMatchObject({ estimate: null });
  });
});

describe("paired tests", () => {
  it("McNemar exact and chi-square match hand-computed p-values", () => {
    const pairs = (onlyA: number, onlyB: number, both: number): Array<[boolean, boolean]> => [
      ...Array.from({ length: onlyA }, (): [boolean, boolean] => [true, false]),
      ...Array.from({ length: onlyB }, (): [boolean, boolean] => [false, true]),
      ...Array.from({ length: both }, (): [boolean, boolean] => [true, true]),
    ];
    // exact: 2 · (C(10,0) + C(10,1)) / 2^10 = 22/1024
    expect(mcnemar(pairs(1, 9, 5))).toEqual({ onlyA: 1, onlyB: 9, pValue: 22 / 1024, method: "exact" });
    // chi-square: (|10 − 30| − 1)² / 40 = 9.025, p = erfc(sqrt(9.025 / 2)) = 0.002663
    const chi = mcnemar(pairs(10, 30, 0));
    expect(chi.method).toBe("chi-square");
    expect(chi.pValue).toBeCloseTo(0.002663, 5);
    expect(mcnemar(pairs(0, 0, 4)).pValue).toBe(1);
    expect(mcnemar(pairs(3, 3, 0)).pValue).toBe(1);
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(1)).toBeCloseTo(0.157299, 6);
  });
  it("paired difference: mean of B − A with a t interval", () => {
    const d = pairedDifference([
      [0, 1],
      [1, 1],
      [0, 0],
      [0, 1],
    ]); // diffs 1,0,0,1
    expect(d.estimate).toBe(0.5);
    expect(d.stderr).toBeCloseTo(Math.sqrt(1 / 3) / 2, 12);
    expect(pairedDifference([])).toMatchObject({ estimate: null, n: 0 });
    expect(pairedDifference([[0.2, 0.5]])).toMatchObject({ estimate: expect.closeTo(0.3, 12), ci95: null, n: 1 });
  });
});

describe("compareRuns", () => {
  const row = (test: string, model: string, success: boolean | null, category = "c", overall: number | null = null): ComparedRow => ({
    test_id: test,
    persona_slug: "none",
    model_slug: model,
    epoch: 1,
    category,
    status: success === null ? "error" : "ok",
    scores: success === null && overall === null ? null : { verdict: { value: success === null ? null : Number(success), metrics: { overall, safety_score: null } } },
  });
  const run = (rows: ComparedRow[]) => ({ rows, scorers: [VERDICT_DECLARATION] });
  const metric = (comparison: ReturnType<typeof compareRuns>, name: string) => comparison.metrics.find((entry) => entry.metric === name)!;
  it("pairs shared items across single-model runs and lists the rest", () => {
    const a = [row("1", "m-a", false, "x", 0.9), row("2", "m-a", false, "x", 0.8), row("3", "m-a", true, "y", 0.2), row("only-a", "m-a", true)];
    const b = [row("1", "m-b", true, "x", 0.1), row("2", "m-b", false, "x", 0.9), row("3", "m-b", null, "y"), row("only-b", "m-b", false)];
    const comparison = compareRuns(run(a), run(b));
    expect(comparison.pairedBy).toBe("test, persona and epoch");
    expect(compareRuns(run(a), run(b.map((r) => ({ ...r, persona_slug: "evil_confidant" })))).pairedBy).toBe("test and epoch");
    expect(comparison.pairs).toBe(3);
    expect(comparison.onlyInA).toEqual(["only-a|none|1"]);
    expect(comparison.onlyInB).toEqual(["only-b|none|1"]);
    expect(metric(comparison, "attack_success")).toMatchObject({ scorer: "verdict", n: 2, a: 0, b: 0.5, test: { name: "McNemar", onlyA: 0, onlyB: 1, pValue: 1 } });
    expect(metric(comparison, "overall").difference.estimate).toBeCloseTo((-0.8 + 0.1) / 2, 12);
    expect(metric(comparison, "overall").test.name).toBe("paired t");
    expect(metric(comparison, "safety_score").n).toBe(0);
    expect(comparison.primary).toEqual({ scorer: "verdict", metric: "attack_success" });
    expect(comparison.by_category).toEqual([{ category: "x", n: 2, difference: expect.objectContaining({ estimate: 0.5 }) }]);
  });
  it("pairs by model too when both runs test the same models, and refuses mismatched multi-model runs", () => {
    const a = [row("1", "m1", false), row("1", "m2", true)];
    const b = [row("1", "m1", true), row("1", "m2", true)];
    expect(compareRuns(run(a), run(b))).toMatchObject({ pairedBy: "test, persona and epoch, and model", pairs: 2 });
    expect(() => compareRuns(run(a), run([row("1", "m3", true), row("1", "m4", true)]))).toThrow(/different sets of models/);
  });
  it("compares every shared metric by its declared kind, and only scorers both runs have", () => {
    const kl: ScorerDeclaration = { name: "kl", description: "KL divergence", metrics: [{ name: "kl", label: "KL divergence", kind: { type: "unbounded", unit: "nats" }, bad: "high" }] };
    const other: ScorerDeclaration = { name: "other", description: "", metrics: [{ name: "other", label: "other", kind: { type: "rate" }, bad: "none" }] };
    const scored = (test: string, value: number, extra: Record<string, { value: number }> = {}): ComparedRow => ({ ...row(test, "m", false), scores: { kl: { value }, ...extra } });
    const a = [scored("1", 0.5), scored("2", 1.5), scored("3", 2.5)];
    const b = [scored("1", 1.5, { other: { value: 1 } }), scored("2", 2.5), scored("3", 3.5)];
    const comparison = compareRuns({ rows: a, scorers: [kl] }, { rows: b, scorers: [kl, other] });
    expect(comparison.metrics.map((entry) => entry.scorer)).toEqual(["kl"]);
    // Unbounded: the difference is not clipped to [0, 1] (every pair moved by +1 nat).
    expect(metric(comparison, "kl")).toMatchObject({ n: 3, a: 1.5, b: 2.5, difference: { estimate: 1 }, test: { name: "paired t", pValue: 0 } });
  });
});
