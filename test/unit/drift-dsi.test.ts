import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { quantileSorted } from "../../src/metrics/bootstrap.js";
import { DSI_SEED } from "../../src/metrics/suite-metrics/drift-dsi.js";
import { suiteMetricNamed } from "../../src/metrics/suite-metrics/registry.js";
import type { MetricSummary } from "../../src/metrics/summary-types.js";
import type { ResultRow, RowScore } from "../../src/results/record.js";

// drift_task_dsi and drift_judge_dsi on hand-made rows: each row's score holds the fine-tuned model's S on
// the item (s_target) and the base's (s_base). Every point estimate is worked out by hand below; the
// intervals of the mean scores are the reference implementation's (statsmodels 0.14 / scipy, computed once:
//   python3 -c "from statsmodels.stats.proportion import proportion_confint as p; print(p(3,4,method='wilson'), p(1,4,method='wilson'))"
//   python3 -c "from scipy import stats; import numpy as np; v=np.array([0.9,0.7,0.8]); print(stats.t.interval(0.95, 2, loc=v.mean(), scale=stats.sem(v)))"

function row(model: string, part: string, test: string, scorer: string, pair: [number, number] | RowScore): ResultRow {
  const score: RowScore = Array.isArray(pair) ? { value: pair[0], label: null, raw: null, error: null, metrics: { s_target: pair[0], s_base: pair[1] } } : pair;
  return {
    schema_version: 2,
    test_id: `${part}/${test}`,
    epoch: 1,
    persona_slug: "none",
    model_slug: model,
    category: "x",
    status: "ok",
    latency_ms: null,
    tags: { part },
    scores: { [scorer]: score },
    dimensions: { test: `${part}/${test}`, persona: "none", model, epoch: 1 },
  } as unknown as ResultRow;
}

function results(name: string, rows: ResultRow[], options: Record<string, unknown> = {}): Record<string, Record<string, MetricSummary>> {
  const accumulator = suiteMetricNamed(name).create(options);
  for (const entry of rows) accumulator.add(entry);
  return Object.fromEntries(accumulator.results().map((group) => [group.by.model!, group.metrics]));
}

// In domain: the fine-tuned model right on 3 of 4 items, the base on 3 of 4 (other items).
const IN: Array<[number, number]> = [
  [1, 1],
  [1, 0],
  [0, 1],
  [1, 1],
];
// Out of domain: the fine-tuned model right on 1 of 4, the base on 2 of 4.
const OOD: Array<[number, number]> = [
  [1, 1],
  [0, 1],
  [0, 0],
  [0, 0],
];
const taskRows = (model = "ft", inside = IN, outside = OOD) => [
  ...inside.map((pair, index) => row(model, "task_in_domain", String(index), "task", pair)),
  ...outside.map((pair, index) => row(model, "task_ood", String(index), "task", pair)),
];

describe("drift_task_dsi", () => {
  it("DSI of each model and the change, by hand; the mean scores with Wilson intervals as statsmodels'", () => {
    const ft = results("drift_task_dsi", taskRows()).ft!;
    // (3/4 − 1/4) / (3/4) = 2/3 for the fine-tuned model; (3/4 − 2/4) / (3/4) = 1/3 for the base.
    expect(ft.dsi_target!.estimate).toBeCloseTo(2 / 3, 12);
    expect(ft.dsi_base!.estimate).toBeCloseTo(1 / 3, 12);
    expect(ft.dsi_change!.estimate).toBeCloseTo(1 / 3, 12);
    expect(ft.dsi_change!.n).toBe(8);
    expect(ft.s_in_target).toMatchObject({ estimate: 0.75, successes: 3, n: 4 });
    expect(ft.s_in_target!.ci95![0]).toBeCloseTo(0.30064184258240184, 12);
    expect(ft.s_in_target!.ci95![1]).toBeCloseTo(0.9544127391902995, 12);
    expect(ft.s_ood_target!.ci95![0]).toBeCloseTo(0.0455872608097006, 12);
    expect(ft.s_ood_target!.ci95![1]).toBeCloseTo(0.6993581574175982, 12);
    expect([ft.s_in_base!.estimate, ft.s_ood_base!.estimate]).toEqual([0.75, 0.5]);
  });

  it("bootstraps as documented: in-domain items drawn with replacement, then out-of-domain, both models from the same draw", () => {
    const resamples = 500;
    const ft = results("drift_task_dsi", taskRows(), { resamples }).ft!;
    // The procedure, written out: per resample, 4 in-domain indices then 4 out-of-domain ones.
    const random = seededRandom(DSI_SEED);
    const change: number[] = [];
    const target: number[] = [];
    const draw = (items: Array<[number, number]>) => {
      let t = 0;
      let b = 0;
      for (let i = 0; i < items.length; i++) {
        const [x, y] = items[Math.floor(random() * items.length)]!;
        t += x;
        b += y;
      }
      return [t / items.length, b / items.length] as const;
    };
    for (let r = 0; r < resamples; r++) {
      const [inT, inB] = draw(IN);
      const [oodT, oodB] = draw(OOD);
      const dsiT = inT === 0 ? null : (inT - oodT) / inT;
      const dsiB = inB === 0 ? null : (inB - oodB) / inB;
      if (dsiT !== null) target.push(dsiT);
      if (dsiT !== null && dsiB !== null) change.push(dsiT - dsiB);
    }
    change.sort((a, b) => a - b);
    target.sort((a, b) => a - b);
    expect(ft.dsi_change!.ci95).toEqual([quantileSorted(change, 0.025), quantileSorted(change, 0.975)]);
    expect(ft.dsi_target!.ci95).toEqual([quantileSorted(target, 0.025), quantileSorted(target, 0.975)]);
    expect(ft.dsi_change!.bootstrap).toEqual({ seed: DSI_SEED, resamples });
    // Some resamples draw no correct in-domain answer: left out, and said so.
    expect(ft.dsi_target!.note ?? "").toMatch(/^(\d+) of 500 resamples had S_in = 0/);
    expect(ft.dsi_change!.ci95![0]).toBeLessThanOrEqual(ft.dsi_change!.estimate!);
    expect(ft.dsi_change!.ci95![1]).toBeGreaterThanOrEqual(ft.dsi_change!.estimate!);
  });

  it("is null with the reason when S_in = 0 or a part has no item; skips failed rows and other parts", () => {
    const zero = results(
      "drift_task_dsi",
      taskRows("ft", [
        [0, 1],
        [0, 0],
      ]),
    ).ft!;
    expect(zero.dsi_target).toMatchObject({ estimate: null, ci95: null, note: "S_in = 0 for the fine-tuned model: (S_in − S_ood) / S_in is undefined" });
    expect(zero.dsi_change!.estimate).toBeNull();
    expect(zero.dsi_change!.note).toMatch(/S_in = 0 for the fine-tuned model/);
    // The base got one of two right in domain, two of four out: (1/2 − 2/4) / (1/2) = 0.
    expect(zero.dsi_base!.estimate).toBe(0);
    const noOod = results("drift_task_dsi", taskRows("ft", IN, [])).ft!;
    expect(noOod.dsi_target).toMatchObject({ estimate: null, note: "no scored out-of-domain item" });
    const failed: RowScore = { value: null, label: null, raw: null, error: "judge failed", metrics: { s_target: null, s_base: null } };
    const mixed = [...taskRows(), row("ft", "task_in_domain", "bad", "task", failed), row("ft", "in_domain", "text", "task", [0, 0]), row("ft", "task_in_domain", "other-score", "fidelity", [0, 0])];
    expect(results("drift_task_dsi", mixed).ft!.dsi_target!.estimate).toBeCloseTo(2 / 3, 12);
  });

  it("reports each model on its own, reads other part names, and refuses unknown options", () => {
    const both = results("drift_task_dsi", [...taskRows("a"), ...taskRows("b", OOD, IN)]);
    expect(Object.keys(both).sort()).toEqual(["a", "b"]);
    // b: S_in = 1/4, S_ood = 3/4 → (1/4 − 3/4) / (1/4) = −2.
    expect(both.b!.dsi_target!.estimate).toBeCloseTo(-2, 12);
    const renamed = taskRows().map((entry) => ({ ...entry, tags: { part: entry.tags!.part === "task_in_domain" ? "mine" : "theirs" } }) as ResultRow);
    expect(results("drift_task_dsi", renamed, { in_domain_part: "mine", ood_part: "theirs" }).ft!.dsi_target!.estimate).toBeCloseTo(2 / 3, 12);
    expect(() => suiteMetricNamed("drift_task_dsi").create({ part: "x" })).toThrow(/drift_task_dsi: unknown option "part"/);
    expect(() => suiteMetricNamed("drift_task_dsi").create({ resamples: 10 })).toThrow(/at least 100/);
  });
});

describe("drift_judge_dsi", () => {
  it("reads the judged parts' 0–1 grades: t intervals (clipped to [0, 1]) as scipy's, DSI by hand", () => {
    const rows = [
      ...[
        [0.9, 0.8],
        [0.7, 0.6],
        [0.8, 0.7],
      ].map((pair, index) => row("ft", "judge_in_domain", String(index), "judged", pair as [number, number])),
      ...[
        [0.4, 0.7],
        [0.6, 0.5],
      ].map((pair, index) => row("ft", "judge_ood", String(index), "judged", pair as [number, number])),
    ];
    const ft = results("drift_judge_dsi", rows).ft!;
    // S_in 0.8 vs S_ood 0.5 for the fine-tuned model: 0.375; the base 0.7 vs 0.6: 1/7.
    expect(ft.dsi_target!.estimate).toBeCloseTo(0.375, 12);
    expect(ft.dsi_base!.estimate).toBeCloseTo(1 / 7, 12);
    expect(ft.dsi_change!.estimate).toBeCloseTo(0.375 - 1 / 7, 12);
    expect(ft.s_in_target!.estimate).toBeCloseTo(0.8, 12);
    expect(ft.s_in_target!.ci95![0]).toBeCloseTo(0.5515862288249671, 9);
    expect(ft.s_in_target!.ci95![1]).toBe(1);
    // Task rows are not its rows.
    expect(results("drift_judge_dsi", taskRows())).toEqual({});
  });
});
