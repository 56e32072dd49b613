import { UserError } from "../../errors.js";
import { seededRandom } from "../../common/seeded-random.js";
import type { ResultRow } from "../../results/record.js";
import { quantileSorted } from "../bootstrap.js";
import { mean, meanOf } from "../intervals.js";
import type { MetricSummary } from "../summary-types.js";
import type { SuiteMetric, SuiteMetricGroup } from "./types.js";

// Fidelity Loss and the Drift Sensitivity Index over a drift run's text parts (AlignBench's README defines
// both; its code computes DSI from a dummy accuracy that is always 1 — here S is a real accuracy). Per model
// (the fine-tuned checkpoint; its base is role `base`), from each text row's `fidelity` score (drift-text.ts):
//   fl                = mean over in-domain texts of the text's mean per-token KL(P_target ‖ P_base)   (t interval)
//   fl_token_weighted = Σ kl_sum / Σ tokens over in-domain texts
//   changed_share, tv_mean = means over in-domain texts of the texts' shares / mean TV                 (t interval)
//   dsi_target        = (S_in − S_ood) / S_in, S = mean over a part's texts of acc_target (greedy accuracy)
//   dsi_base          = the same with acc_base;  dsi_change = dsi_target − dsi_base
//   ll_shift          = mean ll_target in-domain − mean ll_target out-of-domain (ll_shift_base: the base's)
// The ratio and difference metrics get a seeded percentile bootstrap over texts: each resample draws the
// in-domain texts with replacement, then the out-of-domain texts, and every statistic is computed on that
// resample, so dsi_target and dsi_base stay paired through the texts they share. Each part's own numbers
// (fl, fl_token_weighted, changed_share, tv_mean) are also reported under its group { part, model }.

export const DEFAULT_SEED = 20260214;
export const DEFAULT_RESAMPLES = 2000;

const COLUMNS = ["kl_mean", "kl_sum", "tokens", "changed_share", "tv_mean", "acc_target", "acc_base", "ll_target", "ll_base"] as const;
type Column = (typeof COLUMNS)[number];
type Texts = Record<Column, number[]>;

interface Options {
  scorer: string;
  inDomain: string;
  ood: string;
  seed: number;
  resamples: number;
}

function readOptions(options: Record<string, unknown>): Options {
  const known = ["scorer", "in_domain_part", "ood_part", "seed", "resamples"];
  for (const key of Object.keys(options)) if (!known.includes(key)) throw new UserError(`drift_fidelity_dsi: unknown option "${key}" (${known.join(", ")})`);
  const text = (key: string, fallback: string): string => {
    const value = options[key] ?? fallback;
    if (typeof value !== "string" || value === "") throw new UserError(`drift_fidelity_dsi: ${key} must be a name`);
    return value;
  };
  const seed = options.seed ?? DEFAULT_SEED;
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new UserError("drift_fidelity_dsi: seed must be an integer");
  if (typeof resamples !== "number" || !Number.isInteger(resamples) || resamples < 100) throw new UserError("drift_fidelity_dsi: resamples must be an integer of at least 100");
  return { scorer: text("scorer", "fidelity"), inDomain: text("in_domain_part", "in_domain"), ood: text("ood_part", "ood"), seed, resamples };
}

function emptyTexts(): Texts {
  return Object.fromEntries(COLUMNS.map((column) => [column, []])) as unknown as Texts;
}

/** A text row's numbers, or undefined when the row is not a scored text of the run. */
function readRow(row: ResultRow, scorer: string): Record<Column, number> | undefined {
  const score = row.scores?.[scorer];
  if (!score || score.error || typeof score.value !== "number" || !Number.isFinite(score.value)) return undefined;
  const values: Partial<Record<Column, number>> = { kl_mean: score.value };
  for (const column of COLUMNS.slice(1)) {
    const value = score.metrics?.[column];
    if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
    values[column] = value;
  }
  return values as Record<Column, number>;
}

/** Drift Sensitivity Index of a score on in-domain and out-of-domain sets; null when S_in is 0. */
export function driftSensitivity(sIn: number, sOod: number): number | null {
  return sIn === 0 ? null : (sIn - sOod) / sIn;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const average = (values: number[]) => (values.length === 0 ? null : sum(values) / values.length);

/** The statistics the bootstrap resamples, from the column means of each part (ood: null when it has no texts). */
type Means = Record<Column, number>;
const STATISTICS: Record<string, (inside: Means, outside: Means | null) => number | null> = {
  fl_token_weighted: (inside) => (inside.tokens === 0 ? null : inside.kl_sum / inside.tokens),
  dsi_target: (inside, outside) => (outside ? driftSensitivity(inside.acc_target, outside.acc_target) : null),
  dsi_base: (inside, outside) => (outside ? driftSensitivity(inside.acc_base, outside.acc_base) : null),
  dsi_change: (inside, outside) => {
    const target = outside ? driftSensitivity(inside.acc_target, outside.acc_target) : null;
    const base = outside ? driftSensitivity(inside.acc_base, outside.acc_base) : null;
    return target === null || base === null ? null : target - base;
  },
  ll_shift: (inside, outside) => (outside ? inside.ll_target - outside.ll_target : null),
  ll_shift_base: (inside, outside) => (outside ? inside.ll_base - outside.ll_base : null),
};

function means(texts: Texts, indices?: Uint32Array): Means {
  const result = {} as Means;
  for (const column of COLUMNS) {
    const values = texts[column];
    let total = 0;
    if (indices) for (let i = 0; i < indices.length; i++) total += values[indices[i]!]!;
    else total = sum(values);
    result[column] = total / values.length;
  }
  return result;
}

/** Why a statistic is null: no out-of-domain text, S_in = 0 (no in-domain token predicted greedily), no token. */
function whyNull(name: string, inside: Means, outside: Means | null): string {
  if (name === "fl_token_weighted") return "no scored token";
  if (outside === null) return "no scored out-of-domain text";
  const zero = [name !== "dsi_base" && inside.acc_target === 0 ? "the fine-tuned model" : null, name !== "dsi_target" && inside.acc_base === 0 ? "the base" : null].filter(Boolean);
  return `S_in = 0 for ${zero.join(" and ")} (no in-domain token predicted greedily): (S_in − S_ood) / S_in is undefined`;
}

/** Each statistic's estimate and its seeded percentile bootstrap interval (resamples whose value is undefined are left out). */
export function bootstrapDrift(inside: Texts, outside: Texts | null, seed: number, resamples: number): Record<string, MetricSummary> {
  const n = inside.kl_mean.length + (outside?.kl_mean.length ?? 0);
  const names = Object.keys(STATISTICS);
  const result: Record<string, MetricSummary> = {};
  if (inside.kl_mean.length === 0) {
    for (const name of names) result[name] = { estimate: null, stderr: null, ci95: null, n, note: "no scored in-domain text" };
    return result;
  }
  const full = [means(inside), outside && outside.kl_mean.length > 0 ? means(outside) : null] as const;
  const draws: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const random = seededRandom(seed);
  const draw = (count: number) => {
    const indices = new Uint32Array(count);
    for (let i = 0; i < count; i++) indices[i] = Math.floor(random() * count);
    return indices;
  };
  for (let b = 0; b < resamples; b++) {
    const inMeans = means(inside, draw(inside.kl_mean.length));
    const outMeans = full[1] ? means(outside!, draw(outside!.kl_mean.length)) : null;
    for (const name of names) {
      const value = STATISTICS[name]!(inMeans, outMeans);
      if (value !== null && Number.isFinite(value)) draws[name]!.push(value);
    }
  }
  for (const name of names) {
    const estimate = STATISTICS[name]!(full[0], full[1]);
    const values = draws[name]!.sort((a, b) => a - b);
    if (estimate === null || values.length < 2) {
      result[name] = { estimate, stderr: null, ci95: null, n, ...(estimate === null ? { note: whyNull(name, full[0], full[1]) } : {}) };
      continue;
    }
    const centre = sum(values) / values.length;
    const stderr = Math.sqrt(values.reduce((total, value) => total + (value - centre) ** 2, 0) / (values.length - 1));
    result[name] = { estimate, stderr, ci95: [quantileSorted(values, 0.025), quantileSorted(values, 0.975)], n, bootstrap: { seed, resamples } };
  }
  return result;
}

/** A mean over texts with a t interval, clipped to [0, 1] for shares. */
function textMean(values: number[], share: boolean): MetricSummary {
  if (!share) return meanOf(values);
  const centre = average(values);
  const sd = values.length > 1 && centre !== null ? Math.sqrt(values.reduce((total, value) => total + (value - centre) ** 2, 0) / (values.length - 1)) : null;
  return mean(values.length, centre, sd, [0, 1]);
}

/** The fidelity numbers of one part's texts. */
function fidelityOf(texts: Texts, seed: number, resamples: number): Record<string, MetricSummary> {
  return {
    fl: textMean(texts.kl_mean, false),
    fl_token_weighted: bootstrapDrift(texts, null, seed, resamples).fl_token_weighted!,
    changed_share: textMean(texts.changed_share, true),
    tv_mean: textMean(texts.tv_mean, true),
  };
}

export const driftFidelityDsi: SuiteMetric = {
  declaration: {
    name: "drift_fidelity_dsi",
    description:
      "Fidelity Loss (mean per-token KL of the fine-tuned model's next-token distributions from its base's, in-domain) and the Drift Sensitivity Index (S_in − S_ood) / S_in of greedy next-token accuracy, per model",
    metrics: [
      { name: "fl", label: "Fidelity Loss (nats per token)", kind: { type: "unbounded", unit: "nats" }, bad: "high" },
      { name: "fl_token_weighted", label: "Fidelity Loss, token-weighted (nats)", kind: { type: "unbounded", unit: "nats" }, bad: "high" },
      { name: "changed_share", label: "share of greedy tokens changed", kind: { type: "bounded", range: [0, 1] }, bad: "high" },
      { name: "tv_mean", label: "mean total-variation distance", kind: { type: "bounded", range: [0, 1] }, bad: "high" },
      { name: "dsi_target", label: "Drift Sensitivity Index, fine-tuned", kind: { type: "unbounded" }, bad: "high" },
      { name: "dsi_base", label: "Drift Sensitivity Index, base", kind: { type: "unbounded" }, bad: "none" },
      { name: "dsi_change", label: "DSI change (fine-tuned − base)", kind: { type: "unbounded" }, bad: "high" },
      { name: "ll_shift", label: "log-likelihood shift, in-domain − out-of-domain (fine-tuned, nats/token)", kind: { type: "unbounded", unit: "nats" }, bad: "none" },
      { name: "ll_shift_base", label: "log-likelihood shift, in-domain − out-of-domain (base, nats/token)", kind: { type: "unbounded", unit: "nats" }, bad: "none" },
    ],
  },
  create(options) {
    const settings = readOptions(options);
    const byModel = new Map<string, Map<string, Texts>>();
    return {
      add(row: ResultRow) {
        const part = row.tags?.part;
        if (part !== settings.inDomain && part !== settings.ood) return;
        const values = readRow(row, settings.scorer);
        if (!values) return;
        let parts = byModel.get(row.model_slug);
        if (!parts) byModel.set(row.model_slug, (parts = new Map()));
        let texts = parts.get(part);
        if (!texts) parts.set(part, (texts = emptyTexts()));
        for (const column of COLUMNS) texts[column].push(values[column]);
      },
      results(): SuiteMetricGroup[] {
        return [...byModel].flatMap(([model, parts]) => {
          const inside = parts.get(settings.inDomain) ?? emptyTexts();
          const outside = parts.get(settings.ood) ?? null;
          const boot = bootstrapDrift(inside, outside, settings.seed, settings.resamples);
          const metrics: Record<string, MetricSummary> = { ...boot, ...fidelityOf(inside, settings.seed, settings.resamples) };
          const byPart = [...parts].map(([part, texts]) => ({ by: { part, model }, metrics: fidelityOf(texts, settings.seed, settings.resamples) }));
          return [{ by: { model }, metrics }, ...byPart];
        });
      },
    };
  },
};
