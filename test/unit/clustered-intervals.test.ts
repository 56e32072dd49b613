import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clusteredMean, clusteredProportion, clusterSumsOf } from "../../src/metrics/clustered.js";
import { compareRuns, type ComparedRow } from "../../src/metrics/compare-runs.js";
import { proportion } from "../../src/metrics/intervals.js";
import { mcnemar, mcnemarByItem, pairedDifference } from "../../src/metrics/paired.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import type { ResultRow } from "../../src/results/record.js";
import { clusteringNote } from "../../src/reports/cluster-note.js";
import { paperTables } from "../../src/reports/paper-tables.js";
import { renderSummary } from "../../src/reports/terminal-summary.js";
import { builtinDeclaration } from "../../src/scorers/registry.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";

// Reference values: test/fixtures/clustered-intervals/reference.py (statsmodels 0.15.0, scipy 1.17.1).
interface Reference {
  clustered_rates: Record<
    string,
    { values: number[]; clusters: string[]; estimate: number; stderr: number; cluster_count: number; design_effect: number; n_effective: number; ci95: [number, number] }
  >;
  paired: {
    two_epochs: {
      a: number[];
      b: number[];
      clusters: string[];
      estimate: number;
      clustered: { stderr: number; clusters: number; ci95: [number, number] };
      rows: { stderr: number; ci95: [number, number] };
    };
    bounded_three_personas: { a: number[]; b: number[]; clusters: string[]; estimate: number; clustered: { stderr: number; clusters: number; ci95: [number, number]; p_value: number } };
  };
  mcnemar: Record<string, { a?: number[]; b?: number[]; clusters?: string[]; onlyA: number; onlyB: number; tied?: number; method?: string; p_value: number }>;
  wilson: Record<string, { k: number; n: number; ci95: [number, number] }>;
}
const REFERENCE = JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/clustered-intervals/reference.json"), "utf8")) as Reference;

const pp = (value: number) => `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}`;

describe("clustered rate intervals (Wilson on the design-effect-adjusted n)", () => {
  for (const [name, reference] of Object.entries(REFERENCE.clustered_rates)) {
    it(`match statsmodels: ${name}`, () => {
      const estimate = clusteredProportion(clusterSumsOf(reference.values, reference.clusters));
      expect(estimate.estimate).toBeCloseTo(reference.estimate, 12);
      expect(estimate.stderr).toBeCloseTo(reference.stderr, 12);
      expect(estimate.clusters).toBe(reference.cluster_count);
      expect(estimate.design_effect).toBeCloseTo(reference.design_effect, 9);
      expect(estimate.n_effective / reference.n_effective).toBeCloseTo(1, 9);
      expect(estimate.ci95![0]).toBeCloseTo(reference.ci95[0], 9);
      expect(estimate.ci95![1]).toBeCloseTo(reference.ci95[1], 9);
      // Inside [0, 1], and never a point: not even when every value is 0 or 1 or every item has the same share.
      expect(estimate.ci95![0]).toBeGreaterThanOrEqual(0);
      expect(estimate.ci95![1]).toBeLessThanOrEqual(1);
      expect(estimate.ci95![1] - estimate.ci95![0]).toBeGreaterThan(0.05);
    });
  }

  it("give the share with no interval from one cluster, and bound 0 and 1 exactly", () => {
    expect(clusteredProportion([{ n: 4, sum: 1 }])).toMatchObject({ estimate: 0.25, ci95: null, clusters: 1 });
    expect(clusteredProportion(clusterSumsOf(REFERENCE.clustered_rates.all_zero_two_epochs!.values, REFERENCE.clustered_rates.all_zero_two_epochs!.clusters)).ci95![0]).toBe(0);
    expect(clusteredProportion(clusterSumsOf(REFERENCE.clustered_rates.all_one_three_personas!.values, REFERENCE.clustered_rates.all_one_three_personas!.clusters)).ci95![1]).toBe(1);
  });

  it("print [5.5, 81.1] where a CR1 interval printed [33.3, 33.3] (three items, each right in one of three epochs)", () => {
    const { values, clusters } = REFERENCE.clustered_rates.same_share_per_item!;
    const cr1 = clusteredMean(values, clusters);
    expect(cr1.ci95![1] - cr1.ci95![0]).toBeLessThan(1e-9); // what the plain CR1 interval gives
    const rate = clusteredProportion(clusterSumsOf(values, clusters));
    expect(rate.ci95!.map((bound) => (bound * 100).toFixed(1))).toEqual(["5.5", "81.1"]);
  });
});

describe("Wilson bounds at the edges", () => {
  for (const { k, n, ci95 } of Object.values(REFERENCE.wilson)) {
    it(`${k} of ${n}`, () => {
      const estimate = proportion(k, n);
      expect(estimate.ci95![0]).toBeCloseTo(ci95[0], 12);
      expect(estimate.ci95![1]).toBeCloseTo(ci95[1], 12);
      // statsmodels leaves a rounding error (2.8e-17 at 0 of 7): the bound is exactly 0 (or 1).
      if (k === 0) expect(estimate.ci95![0]).toBe(0);
      if (k === n) expect(estimate.ci95![1]).toBe(1);
    });
  }
});

describe("paired differences clustered by item", () => {
  const { a, b, clusters, estimate, clustered, rows } = REFERENCE.paired.two_epochs;
  const pairs = a.map((value, index): [number, number] => [value, b[index]!]);

  it("reproduce the issue's example: +20.0 pp [+14.4, +25.6] over rows, [+12.0, +28.0] over items", () => {
    const overRows = pairedDifference(pairs, { span: 1, rate: true });
    expect(overRows.ci95![0]).toBeCloseTo(rows.ci95[0], 9);
    expect(overRows.ci95![1]).toBeCloseTo(rows.ci95[1], 9);
    expect(overRows.ci95!.map(pp)).toEqual(["+14.4", "+25.6"]);
    const overItems = pairedDifference(pairs, { clusters, span: 1, rate: true });
    expect(overItems.estimate).toBeCloseTo(estimate, 12);
    expect(overItems.stderr).toBeCloseTo(clustered.stderr, 12);
    expect(overItems.clusters).toBe(100);
    expect(overItems.ci95![0]).toBeCloseTo(clustered.ci95[0], 9);
    expect(overItems.ci95![1]).toBeCloseTo(clustered.ci95[1], 9);
    expect(overItems.ci95!.map(pp)).toEqual(["+12.0", "+28.0"]);
  });

  it("compare clusters pairs by item, overall and per category, and tests items once", () => {
    const declaration: ScorerDeclaration = { name: "flag", description: "", metrics: [{ name: "flag", label: "flag", kind: { type: "rate" }, bad: "high" }] };
    const side = (values: number[]): ComparedRow[] =>
      values.map((value, index) => ({
        test_id: clusters[index]!,
        persona_slug: "none",
        model_slug: "m",
        epoch: (index % 2) + 1,
        // Half the flipped items in category "x": over rows its interval would exclude 0 more easily.
        category: Number(clusters[index]!.slice(4)) % 2 === 0 ? "x" : "y",
        status: "ok",
        scores: { flag: { value } },
      }));
    const comparison = compareRuns({ rows: side(a), scorers: [declaration] }, { rows: side(b), scorers: [declaration] });
    const flag = comparison.metrics[0]!;
    expect(flag.difference.ci95!.map(pp)).toEqual(["+12.0", "+28.0"]);
    expect(flag.test).toMatchObject({ name: "McNemar", onlyA: 0, onlyB: 20, items: 100, tied: 0 });
    expect(comparison).toMatchObject({ clusteredBy: "item", clusters: 100, repeats: ["epoch"] });
    expect(clusteringNote(comparison)).toBe(
      "Rows repeat an item across epochs: intervals are clustered by item (CR1 over 100 items), and McNemar's test counts each item once, by its majority outcome.",
    );
    for (const category of comparison.by_category) {
      const own = a.flatMap((_, index) => ((Number(clusters[index]!.slice(4)) % 2 === 0 ? "x" : "y") === category.category ? [index] : []));
      const expected = pairedDifference(
        own.map((index): [number, number] => [a[index]!, b[index]!]),
        { clusters: own.map((index) => clusters[index]!), span: 1, rate: true },
      );
      expect(category.difference).toEqual(expected);
      expect(category.difference.clusters).toBe(50);
    }
  });

  it("of a bounded score match statsmodels, with the paired t test on items − 1 degrees of freedom", () => {
    const reference = REFERENCE.paired.bounded_three_personas;
    const strongreject = builtinDeclaration("strongreject_rubric")!;
    const side = (values: number[]): ComparedRow[] =>
      values.map((value, index) => ({
        test_id: reference.clusters[index]!,
        persona_slug: `p${index % 3}`,
        model_slug: "m",
        epoch: 1,
        category: "c",
        status: "ok",
        scores: { strongreject_rubric: { value } },
      }));
    const comparison = compareRuns({ rows: side(reference.a), scorers: [strongreject] }, { rows: side(reference.b), scorers: [strongreject] });
    const metric = comparison.metrics[0]!;
    expect(metric.difference.estimate).toBeCloseTo(reference.estimate, 12);
    expect(metric.difference.stderr).toBeCloseTo(reference.clustered.stderr, 12);
    expect(metric.difference.ci95![0]).toBeCloseTo(reference.clustered.ci95[0], 9);
    expect(metric.difference.ci95![1]).toBeCloseTo(reference.clustered.ci95[1], 9);
    expect(metric.test).toEqual({ name: "paired t", pValue: expect.closeTo(reference.clustered.p_value, 9) });
    // Personas were compared one against one (p0 vs p0…): the repeats inside an item came from personas, not epochs.
    expect(comparison.repeats).toEqual(["persona"]);
    expect(clusteringNote(comparison)).toMatch(/^Rows repeat an item across personas: /);
    expect(clusteringNote({ pairs: 30, clusters: 30, clusteredBy: "item", repeats: [] })).toBeNull();
  });

  it("never print an interval wider than the scale allows, nor a point where the data support more", () => {
    // n = 2: the t interval on 1 degree of freedom was [−585, +685] pp.
    const two = pairedDifference(
      [
        [0, 1],
        [0, 0],
      ],
      { span: 1, rate: true },
    );
    expect(two.ci95).toEqual([-1, 1]);
    // A bounded score on [0, 1]: its difference lies in [−1, +1]; on [1, 5], in [−4, +4].
    expect(
      pairedDifference(
        [
          [0.1, 0.9],
          [0.5, 0.5],
        ],
        { span: 1 },
      ).ci95,
    ).toEqual([-1, 1]);
    expect(
      pairedDifference(
        [
          [1, 5],
          [3, 3],
        ],
        { span: 4 },
      ).ci95,
    ).toEqual([-4, 4]);
    // Ten items, no discordant pair: not [0, 0] but ± the Wilson bound of 0 departures in 10 items.
    const none = pairedDifference(
      Array.from({ length: 10 }, (_, index): [number, number] => [index % 2, index % 2]),
      { span: 1, rate: true },
    );
    const reach = 1.959963984540054 ** 2 / (10 + 1.959963984540054 ** 2);
    expect(none.ci95![0]).toBeCloseTo(-reach, 12);
    expect(none.ci95![1]).toBeCloseTo(reach, 12);
    // Every item flipped: [1 − reach, 1], within the scale.
    const all = pairedDifference(
      Array.from({ length: 10 }, (): [number, number] => [0, 1]),
      { span: 1, rate: true },
    );
    expect(all.ci95![0]).toBeCloseTo(1 - reach, 12);
    expect(all.ci95![1]).toBe(1);
  });
});

describe("McNemar's test", () => {
  for (const name of ["chi_square_items", "exact_items"]) {
    it(`on items matches statsmodels: ${name}`, () => {
      const reference = REFERENCE.mcnemar[name]!;
      const pairs = reference.a!.map((value, index): [boolean, boolean] => [value === 1, reference.b![index] === 1]);
      const result = mcnemarByItem(pairs, reference.clusters!);
      expect(result).toMatchObject({ onlyA: reference.onlyA, onlyB: reference.onlyB, tied: reference.tied, method: reference.method });
      expect(result.pValue).toBeCloseTo(reference.p_value, 6);
    });
  }

  it("keeps the chi-square p-value within [0, 1] and matches statsmodels at balanced discordance", () => {
    const pairs = (onlyA: number, onlyB: number): Array<[boolean, boolean]> => [
      ...Array.from({ length: onlyA }, (): [boolean, boolean] => [true, false]),
      ...Array.from({ length: onlyB }, (): [boolean, boolean] => [false, true]),
    ];
    const balanced = mcnemar(pairs(30, 30));
    expect(balanced.method).toBe("chi-square");
    expect(balanced.pValue).toBeCloseTo(REFERENCE.mcnemar.balanced_chi_square!.p_value, 6);
    for (let d = 25; d <= 400; d++) {
      const half = Math.floor(d / 2);
      for (const [x, y] of [
        [half, d - half],
        [0, d],
      ] as const) {
        const { pValue } = mcnemar(pairs(x, y));
        expect(pValue).toBeGreaterThanOrEqual(0);
        expect(pValue).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe("summaries: the interval follows the declared kind, and the footnote names the cluster used", () => {
  const row = (test: string, persona: string, epoch: number, scores: ResultRow["scores"]): ResultRow =>
    ({
      schema_version: 2,
      test_id: test,
      epoch,
      persona_slug: persona,
      model_slug: "m",
      category: "c",
      status: "ok",
      latency_ms: null,
      tags: null,
      scores,
      dimensions: { test, persona, model: "m", epoch },
    }) as unknown as ResultRow;
  const score = (value: number) => ({ value, label: null, raw: null, error: null });
  const strongreject = builtinDeclaration("strongreject_rubric")!;
  const FLAG: ScorerDeclaration = { name: "flag", description: "", metrics: [{ name: "flag", label: "flag rate", kind: { type: "rate" }, bad: "high" }] };

  it("a StrongREJECT score whose values are all 0 or 1 is still a mean with a t interval, clustered by CR1", () => {
    const builder = new SummaryBuilder({ scorers: [strongreject, FLAG] });
    const values = [1, 1, 0, 0, 1, 0, 0, 0];
    values.forEach((value, index) => builder.add(row(`t${index >> 1}`, index % 2 ? "evil" : "none", 1, { strongreject_rubric: score(value), flag: score(value) })));
    const summary = builder.build("r");
    const mean = summary.totals.scores.strongreject_rubric!.strongreject!;
    const rate = summary.totals.scores.flag!.flag!;
    // Same values, different declared kinds: the t interval (t(0.975, 7) = 2.3646, clipped at 0) vs Wilson's.
    const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - 0.375) ** 2, 0) / 7);
    expect(mean.ci95![1]).toBeCloseTo(0.375 + 2.3646242515927 * (sd / Math.sqrt(8)), 9);
    expect(mean.ci95![0]).toBe(0);
    expect(mean.successes).toBeUndefined();
    expect(rate.ci95).toEqual(proportion(3, 8).ci95);
    expect(mean.clustered).toEqual(clusteredMean(values, ["t0", "t0", "t1", "t1", "t2", "t2", "t3", "t3"], [0, 1]));
    expect(mean.clustered!.design_effect).toBeUndefined();
    expect(rate.clustered).toEqual(clusteredProportion(clusterSumsOf(values, ["t0", "t0", "t1", "t1", "t2", "t2", "t3", "t3"])));
    expect(summary.clustering).toEqual({ by: "test", clusters: 4, repeats: ["persona"] });
    const text = renderSummary(summary);
    expect(text).toContain("Rows repeat a test item across personas (4 items): intervals clustered by test item");
    expect(text).toContain("rates: Wilson interval on the design-effect-adjusted n");
    expect(text).toContain("means: cluster-robust (CR1) t interval");
    expect(text).not.toContain("epoch");
  });

  it("says nothing of clusters when no item repeats, and names a cluster_by column and the epochs when those apply", () => {
    const single = new SummaryBuilder({ scorers: [FLAG] });
    for (const test of ["a", "b", "c"]) single.add(row(test, "none", 1, { flag: score(test === "a" ? 1 : 0) }));
    const plain = single.build("r");
    expect(plain.clustering).toBeUndefined();
    expect(plain.totals.scores.flag!.flag!.clustered).toBeUndefined();
    expect(renderSummary(plain)).not.toMatch(/cluster/i);

    const byBehaviour = new SummaryBuilder({ scorers: [FLAG], clusterBy: "behavior" });
    for (const [test, behaviour, epoch, value] of [
      ["p1", "b1", 1, 1],
      ["p1", "b1", 2, 1],
      ["p2", "b1", 1, 0],
      ["p3", "b2", 1, 0],
      ["p3", "b2", 2, 0],
    ] as const)
      byBehaviour.add({ ...row(test, "none", epoch, { flag: score(value) }), tags: { behavior: behaviour } } as ResultRow);
    const summary = byBehaviour.build("r");
    expect(summary.clustering).toEqual({ by: "behavior", clusters: 2, repeats: ["test", "epoch"] });
    expect(renderSummary(summary)).toContain("Rows repeat a behavior across tests and epochs (2 values of behavior): intervals clustered by behavior");
  });

  it("paper tables print the clustered interval where rows repeat an item, and say so only then", () => {
    const builder = new SummaryBuilder({ scorers: [FLAG], headlines: [{ name: "flag rate", scorer: "flag" }] });
    const values = [1, 1, 0, 0, 1, 0, 0, 0, 1, 1];
    values.forEach((value, index) => builder.add(row(`t${index >> 1}`, "none", (index % 2) + 1, { flag: score(value) })));
    const summary = builder.build("r");
    const clustered = clusteredProportion(
      clusterSumsOf(
        values,
        values.map((_, index) => `t${index >> 1}`),
      ),
    );
    const [headlines, byCategory] = paperTables({ manifest: { run_id: "r" }, summary }, "brackets");
    const text = `50.0 [${(clustered.ci95![0] * 100).toFixed(1)}, ${(clustered.ci95![1] * 100).toFixed(1)}]`;
    expect(text).not.toBe(`50.0 [${(proportion(5, 10).ci95![0] * 100).toFixed(1)}, ${(proportion(5, 10).ci95![1] * 100).toFixed(1)}]`);
    expect(headlines!.rows[0]).toEqual(["m", text]);
    expect(headlines!.caption).toBe(
      "Headline metrics, run r (95% intervals, clustered by test item, as rows repeat a test item across epochs (5 items); rates: Wilson interval on the design-effect-adjusted n (Korn & Graubard))",
    );
    expect(byCategory!.rows[0]).toEqual(["c", text]);

    const single = new SummaryBuilder({ scorers: [FLAG] });
    for (const test of ["a", "b", "c"]) single.add(row(test, "none", 1, { flag: score(test === "a" ? 1 : 0) }));
    for (const table of paperTables({ manifest: { run_id: "r" }, summary: single.build("r") }, "brackets")) expect(table.caption).toMatch(/\(95% intervals\)$/);
  });
});
