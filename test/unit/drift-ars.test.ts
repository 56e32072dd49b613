import { describe, expect, it } from "vitest";
import { driftArs } from "../../src/metrics/suite-metrics/drift-ars.js";
import type { ResultRow, RowScore } from "../../src/results/record.js";
import { alignmentScore, flipLabel } from "../../src/runner/plans/drift-probes.js";

// Wilson 95% bounds below are statsmodels 0.15.0's, computed once with
//   python3 -c "from statsmodels.stats.proportion import proportion_confint as p; print(p(K, N, alpha=0.05, method='wilson'))"
const WILSON: Record<string, [number, number]> = {
  "57/63": [0.8073829893716311, 0.955616515723108],
  "63/63": [0.9425288004111484, 1.0],
  "58/64": [0.810171204003544, 0.9563217474148016],
  "63/64": [0.9166589839990573, 0.9972364580766624],
  "6/64": [0.04367825258519835, 0.18982879599645602],
  "1/64": [0.002763541923337505, 0.08334101600094268],
  "0/64": [0, 0.05662405979280536],
};

function row(model: string, test: string, category: string, score: RowScore | undefined, part = "probes"): ResultRow {
  return {
    schema_version: 2,
    test_id: test,
    epoch: 1,
    persona_slug: "none",
    model_slug: model,
    category,
    status: "ok",
    tags: { part },
    scores: score ? { alignment: score } : null,
    dimensions: { test, persona: "none", model, epoch: 1 },
  } as unknown as ResultRow;
}

/** A pair of verdicts as the drift plan scores it. */
function pair(base: 0 | 1, target: 0 | 1): RowScore {
  return alignmentScore({ aligned: target, raw: "t", error: null }, { aligned: base, raw: "b", error: null }, "refusal_string_match", "refuse");
}

function results(rows: ResultRow[], options: Record<string, unknown> = {}) {
  const accumulator = driftArs.create(options);
  for (const entry of rows) accumulator.add(entry);
  return accumulator.results();
}

const byModel = (groups: ReturnType<typeof results>, model: string) => groups.find((group) => group.by.model === model && group.by.category === undefined)!.metrics;

function expectClose(actual: [number, number] | null, expected: [number, number]): void {
  expect(actual).not.toBeNull();
  expect(actual![0]).toBeCloseTo(expected[0], 12);
  expect(actual![1]).toBeCloseTo(expected[1], 12);
}

// 64 probes; the base is aligned on all but p00. Checkpoint "same" answers exactly as the base; "loose"
// loses p01–p06 and gains p00: by hand, ARS = 57/63, aligned 58/64 vs 63/64, 6 lost, 1 gained.
function series(): ResultRow[] {
  const rows: ResultRow[] = [];
  for (let index = 0; index < 64; index++) {
    const id = `p${String(index).padStart(2, "0")}`;
    const category = index < 32 ? "harmful" : "benign";
    const base: 0 | 1 = index === 0 ? 0 : 1;
    rows.push(row("same", id, category, pair(base, base)));
    const loose: 0 | 1 = index === 0 ? 1 : index <= 6 ? 0 : 1;
    rows.push(row("loose", id, category, pair(base, loose)));
  }
  return rows;
}

describe("drift_ars", () => {
  it("an identical model keeps every probe: ARS = 1, equal alignment rates, no flips", () => {
    const metrics = byModel(results(series()), "same");
    expect(metrics.ars).toMatchObject({ estimate: 1, n: 63, successes: 63 });
    expectClose(metrics.ars!.ci95, WILSON["63/63"]!);
    expect(metrics.aligned_target).toMatchObject({ estimate: 63 / 64, n: 64, successes: 63 });
    expect(metrics.aligned_base).toMatchObject({ estimate: 63 / 64, n: 64, successes: 63 });
    expectClose(metrics.aligned_target!.ci95, WILSON["63/64"]!);
    expect(metrics.flips_lost).toMatchObject({ estimate: 0, n: 64, successes: 0, items: { ids: [], total: 0 } });
    expectClose(metrics.flips_lost!.ci95, WILSON["0/64"]!);
    expect(metrics.flips_gained).toMatchObject({ estimate: 0, successes: 0, items: { ids: [], total: 0 } });
  });

  it("a checkpoint that lost six probes and gained one: ARS, rates and flips by hand, Wilson intervals as statsmodels'", () => {
    const groups = results(series());
    const metrics = byModel(groups, "loose");
    expect(metrics.ars).toMatchObject({ estimate: 57 / 63, n: 63, successes: 57 });
    expectClose(metrics.ars!.ci95, WILSON["57/63"]!);
    expect(metrics.aligned_target).toMatchObject({ estimate: 58 / 64, successes: 58 });
    expectClose(metrics.aligned_target!.ci95, WILSON["58/64"]!);
    expect(metrics.aligned_base).toMatchObject({ estimate: 63 / 64, successes: 63 });
    expect(metrics.flips_lost).toMatchObject({ estimate: 6 / 64, n: 64, successes: 6, items: { ids: ["p01", "p02", "p03", "p04", "p05", "p06"], total: 6 } });
    expectClose(metrics.flips_lost!.ci95, WILSON["6/64"]!);
    expect(metrics.flips_gained).toMatchObject({ estimate: 1 / 64, successes: 1, items: { ids: ["p00"], total: 1 } });
    expectClose(metrics.flips_gained!.ci95, WILSON["1/64"]!);
    // Per category × model: every loss and the gain are in the harmful half; the benign half is all kept.
    const harmful = groups.find((group) => group.by.model === "loose" && group.by.category === "harmful")!.metrics;
    expect(harmful.ars).toMatchObject({ estimate: 25 / 31, n: 31 });
    const benign = groups.find((group) => group.by.model === "loose" && group.by.category === "benign")!.metrics;
    expect(benign.ars).toMatchObject({ estimate: 1, n: 32 });
    expect(benign.flips_lost!.items).toEqual({ ids: [], total: 0 });
  });

  it("lists ids in order (numbers as numbers), capped at max_ids with the total; counts a probe's repeats but lists it once", () => {
    const rows = series()
      .filter((entry) => entry.model_slug === "loose")
      .reverse();
    rows.push(row("loose", "p10", "harmful", pair(1, 0)), row("loose", "p9", "harmful", pair(1, 0)));
    expect(byModel(results(rows), "loose").flips_lost!.items).toEqual({ ids: ["p01", "p02", "p03", "p04", "p05", "p06", "p9", "p10"], total: 8 });
    rows.splice(-2);
    rows.push(row("loose", "p01", "harmful", pair(1, 0)));
    const metrics = byModel(results(rows, { max_ids: 2 }), "loose");
    expect(metrics.flips_lost).toMatchObject({ successes: 7, n: 65, items: { ids: ["p01", "p02"], total: 6 } });
  });

  it("with a probe's rows repeated (epochs), also gives the interval that counts each probe once", () => {
    // Four probes, two epochs each, the base aligned on all; kept per probe 2, 2, 1, 0 of 2: ARS = 5/8.
    // Reference (scipy 1.17.1, by the formulas of src/metrics/clustered.ts, not its code):
    //   CR1 se = sqrt(G/(G−1) · Σ(S_g − n_g·p)² / n²) = 0.23935677693908453; deff = 1.7111…;
    //   n_eff = n/deff · (t.ppf(.975, 7) / t.ppf(.975, 3))² = 2.581153808912309; Wilson at p on n_eff.
    const rows: ResultRow[] = [];
    const kept = [2, 2, 1, 0];
    kept.forEach((count, probe) => {
      for (let epoch = 0; epoch < 2; epoch++) rows.push(row("m", `q${probe}`, "c", pair(1, epoch < count ? 1 : 0)));
    });
    const metrics = byModel(results(rows), "m");
    expect(metrics.ars).toMatchObject({ estimate: 5 / 8, n: 8, successes: 5 });
    expect(metrics.ars!.clustered).toMatchObject({ estimate: 5 / 8, clusters: 4, n: 8 });
    expect(metrics.ars!.clustered!.stderr).toBeCloseTo(0.23935677693908453, 12);
    expect(metrics.ars!.clustered!.n_effective).toBeCloseTo(2.581153808912309, 9);
    expectClose(metrics.ars!.clustered!.ci95, [0.1684335831130544, 0.9320377498852148]);
    expect(metrics.flips_lost).toMatchObject({ successes: 3, n: 8, items: { ids: ["q2", "q3"], total: 2 } });
    // One row per probe: no clustered interval (it would be the plain one).
    expect(byModel(results(series()), "loose").ars!.clustered).toBeUndefined();
  });

  it("skips rows without the score, rows whose verdict failed, and other parts when a part is named", () => {
    const failed = alignmentScore({ aligned: null, raw: "maybe", error: "the classifier did not answer yes or no" }, { aligned: 1, raw: "yes", error: null }, "judge", "refuse");
    expect(failed).toMatchObject({ value: null, error: expect.stringContaining("fine-tuned answer's verdict"), metrics: { aligned_target: null, aligned_base: 1, flip: null } });
    const rows = [row("m", "a", "c", pair(1, 1)), row("m", "b", "c", failed), row("m", "t", "c", undefined, "in_domain"), row("m", "x", "c", pair(1, 0), "other")];
    expect(byModel(results(rows), "m").ars).toMatchObject({ estimate: 0.5, n: 2 });
    expect(byModel(results(rows, { part: "probes" }), "m").ars).toMatchObject({ estimate: 1, n: 1 });
  });

  it("reports nothing for a model without probes, and rejects unknown or bad options by name", () => {
    expect(results([row("m", "t", "c", undefined, "in_domain")])).toEqual([]);
    expect(() => driftArs.create({ scorers: "x" })).toThrow(/drift_ars: unknown option "scorers"/);
    expect(() => driftArs.create({ max_ids: -1 })).toThrow(/max_ids/);
    expect(() => driftArs.create({ part: 3 })).toThrow(/part/);
  });
});

describe("the alignment score of a pair", () => {
  it("labels and flips each pair of verdicts", () => {
    expect([flipLabel(1, 1), flipLabel(1, 0), flipLabel(0, 1), flipLabel(0, 0)]).toEqual(["kept", "lost", "gained", "neither"]);
    expect(pair(1, 0)).toMatchObject({ value: 0, label: "lost", metrics: { aligned_target: 0, aligned_base: 1, flip: -1 } });
    expect(pair(0, 1)).toMatchObject({ value: 1, label: "gained", metrics: { aligned_target: 1, aligned_base: 0, flip: 1 } });
    expect(pair(1, 1)).toMatchObject({ value: 1, label: "kept", metrics: { flip: 0 }, data: { method: "refusal_string_match", expect: "refuse" } });
  });
});
