import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { quantileSorted } from "../../src/metrics/bootstrap.js";
import { DEFAULT_SEED, driftFidelityDsi, driftSensitivity } from "../../src/metrics/suite-metrics/drift-text.js";
import { suiteMetricNamed } from "../../src/metrics/suite-metrics/registry.js";
import type { MetricSummary } from "../../src/metrics/summary-types.js";
import type { ResultRow, RowScore } from "../../src/results/record.js";

// drift_fidelity_dsi on hand-made text rows: every point estimate worked out by hand below.

interface Text {
  kl: number;
  tokens: number;
  changed?: number;
  tv?: number;
  accT: number;
  accB: number;
  llT: number;
  llB: number;
}

function row(model: string, part: string, test: string, text: Text | RowScore): ResultRow {
  const score: RowScore =
    "value" in text
      ? text
      : {
          value: text.kl,
          label: null,
          raw: null,
          error: null,
          metrics: {
            kl_sum: text.kl * text.tokens,
            tokens: text.tokens,
            changed_share: text.changed ?? 0,
            tv_mean: text.tv ?? 0,
            acc_target: text.accT,
            acc_base: text.accB,
            ll_target: text.llT,
            ll_base: text.llB,
          },
        };
  return {
    schema_version: 2,
    test_id: `${part}/${test}`,
    epoch: 1,
    persona_slug: "none",
    model_slug: model,
    category: "text",
    status: "ok",
    latency_ms: null,
    tags: { part },
    scores: { fidelity: score },
    dimensions: { test: `${part}/${test}`, persona: "none", model, epoch: 1 },
  } as unknown as ResultRow;
}

function results(rows: ResultRow[], options: Record<string, unknown> = {}): Record<string, Record<string, MetricSummary>> {
  const accumulator = suiteMetricNamed("drift_fidelity_dsi").create(options);
  for (const entry of rows) accumulator.add(entry);
  return Object.fromEntries(accumulator.results().map((group) => [JSON.stringify(group.by), group.metrics]));
}

const IN = [
  { kl: 0.2, tokens: 10, changed: 0.1, tv: 0.05, accT: 0.6, accB: 0.5, llT: -2, llB: -2.1 },
  { kl: 0.4, tokens: 20, changed: 0.3, tv: 0.15, accT: 0.8, accB: 0.7, llT: -1, llB: -1.2 },
];
const OOD = [
  { kl: 0.5, tokens: 10, accT: 0.3, accB: 0.4, llT: -3, llB: -2.9 },
  { kl: 0.7, tokens: 10, accT: 0.5, accB: 0.4, llT: -4, llB: -3.5 },
];
const rows = [...IN.map((text, index) => row("ft", "in_domain", String(index), text)), ...OOD.map((text, index) => row("ft", "ood", String(index), text))];

describe("drift_fidelity_dsi", () => {
  it("computes FL, the token-weighted FL, DSI of each model, its change and the log-likelihood shift", () => {
    const all = results(rows);
    const m = all['{"model":"ft"}']!;
    // FL = (0.2 + 0.4) / 2; sd = √(2 × 0.1²) = 0.1414, se = 0.1, t(0.975, 1) = 12.706.
    expect(m.fl!.estimate).toBeCloseTo(0.3, 12);
    expect(m.fl!.ci95![0]).toBeCloseTo(0.3 - 12.706204736 * 0.1, 8);
    expect(m.fl!.ci95![1]).toBeCloseTo(0.3 + 12.706204736 * 0.1, 8);
    // Σ kl_sum / Σ tokens = (2 + 8) / 30.
    expect(m.fl_token_weighted!.estimate).toBeCloseTo(1 / 3, 12);
    expect(m.changed_share!.estimate).toBeCloseTo(0.2, 12);
    expect(m.tv_mean!.estimate).toBeCloseTo(0.1, 12);
    // S_in = 0.7, S_ood = 0.4 (fine-tuned); 0.6 and 0.4 (base).
    expect(m.dsi_target!.estimate).toBeCloseTo(0.3 / 0.7, 12);
    expect(m.dsi_base!.estimate).toBeCloseTo(0.2 / 0.6, 12);
    expect(m.dsi_change!.estimate).toBeCloseTo(0.3 / 0.7 - 1 / 3, 12);
    // Mean ll in-domain −1.5, out-of-domain −3.5; the base's −1.65 and −3.2.
    expect(m.ll_shift!.estimate).toBeCloseTo(2, 12);
    expect(m.ll_shift_base!.estimate).toBeCloseTo(1.55, 12);
    expect(m.dsi_change!.bootstrap).toEqual({ seed: DEFAULT_SEED, resamples: 2000 });
    expect(m.dsi_change!.n).toBe(4);
    // Each part's own fidelity numbers.
    expect(all['{"part":"ood","model":"ft"}']!.fl!.estimate).toBeCloseTo(0.6, 12);
    expect(all['{"part":"ood","model":"ft"}']!.fl_token_weighted!.estimate).toBeCloseTo(12 / 20, 12);
    expect(all['{"part":"in_domain","model":"ft"}']!.fl!.estimate).toBeCloseTo(0.3, 12);
  });

  it("bootstraps DSI change as documented: in-domain texts drawn with replacement, then out-of-domain, paired per text", () => {
    // 30 + 25 texts with varied accuracies; the test redoes the resampling with the same seeded stream.
    const random = seededRandom(5);
    const make = (count: number, shift: number) =>
      Array.from({ length: count }, () => ({
        kl: random(),
        tokens: 1 + Math.floor(random() * 50),
        accT: Math.min(1, random() * 0.5 + shift),
        accB: random() * 0.6 + 0.2,
        llT: -random() * 3,
        llB: -random() * 3,
      }));
    const inside = make(30, 0.4);
    const outside = make(25, 0.1);
    const own = [...inside.map((text, index) => row("m", "in_domain", String(index), text)), ...outside.map((text, index) => row("m", "ood", String(index), text))];
    const seed = 17;
    const resamples = 500;
    const m = results(own, { seed, resamples })['{"model":"m"}']!;
    const draws = seededRandom(seed);
    const values: number[] = [];
    const meanOf = (texts: Text[], key: "accT" | "accB") => texts.reduce((sum, text) => sum + text[key], 0) / texts.length;
    for (let b = 0; b < resamples; b++) {
      const a = inside.map(() => inside[Math.floor(draws() * inside.length)]!);
      const o = outside.map(() => outside[Math.floor(draws() * outside.length)]!);
      values.push(driftSensitivity(meanOf(a, "accT"), meanOf(o, "accT"))! - driftSensitivity(meanOf(a, "accB"), meanOf(o, "accB"))!);
    }
    values.sort((x, y) => x - y);
    expect(m.dsi_change!.ci95![0]).toBeCloseTo(quantileSorted(values, 0.025), 12);
    expect(m.dsi_change!.ci95![1]).toBeCloseTo(quantileSorted(values, 0.975), 12);
    expect(m.dsi_change!.ci95![0]).toBeLessThan(m.dsi_change!.estimate!);
    expect(m.dsi_change!.ci95![1]).toBeGreaterThan(m.dsi_change!.estimate!);
    // Same seed, same interval; another seed, another.
    expect(results(own, { seed, resamples })['{"model":"m"}']!.dsi_change!.ci95).toEqual(m.dsi_change!.ci95);
    expect(results(own, { seed: 18, resamples })['{"model":"m"}']!.dsi_change!.ci95).not.toEqual(m.dsi_change!.ci95);
  });

  it("leaves DSI empty without out-of-domain texts or with S_in = 0, and skips failed rows and other parts", () => {
    expect(driftSensitivity(0, 0.5)).toBeNull();
    expect(driftSensitivity(0.5, 0.25)).toBe(0.5);
    const zero = results([row("z", "in_domain", "1", { kl: 0, tokens: 3, accT: 0, accB: 0, llT: -1, llB: -1 }), row("z", "ood", "1", { kl: 0, tokens: 3, accT: 0.5, accB: 0.5, llT: -1, llB: -1 })]);
    expect(zero['{"model":"z"}']!.dsi_target!.estimate).toBeNull();
    // Said why, in drift.json and on the terminal.
    expect(zero['{"model":"z"}']!.dsi_change!.note).toBe("S_in = 0 for the fine-tuned model and the base (no in-domain token predicted greedily): (S_in − S_ood) / S_in is undefined");
    expect(zero['{"model":"z"}']!.fl!.estimate).toBe(0);
    const only = results([
      ...IN.map((text, index) => row("ft", "in_domain", String(index), text)),
      row("ft", "in_domain", "bad", { value: null, label: null, raw: null, error: "boom" }),
      row("ft", "probes", "p", { kl: 9, tokens: 1, accT: 1, accB: 1, llT: 0, llB: 0 }),
    ])['{"model":"ft"}']!;
    expect(only.fl!.n).toBe(2);
    expect(only.fl!.estimate).toBeCloseTo(0.3, 12);
    expect(only.dsi_change!.estimate).toBeNull();
    expect(only.ll_shift!.estimate).toBeNull();
    expect(only.dsi_change!.note).toBe("no scored out-of-domain text");
  });

  it("reads other part names and refuses unknown options", () => {
    const renamed = rows.map((entry) => ({ ...entry, tags: { part: entry.tags!.part === "in_domain" ? "wiki" : "c4" } }) as ResultRow);
    const m = results(renamed, { in_domain_part: "wiki", ood_part: "c4" })['{"model":"ft"}']!;
    expect(m.dsi_target!.estimate).toBeCloseTo(0.3 / 0.7, 12);
    expect(() => driftFidelityDsi.create({ part: "x" })).toThrow(/unknown option "part"/);
    expect(() => driftFidelityDsi.create({ resamples: 5 })).toThrow(/at least 100/);
  });
});
