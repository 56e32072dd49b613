import { studentTQuantile } from "../t-distribution.js";
import type { Estimate } from "../intervals.js";

// Repeat judging: each item judged k times. With y_ij the j-th judging of item i (n items), the metric is
// the mean of the item means ȳ_i, and by the law of total variance
//
//   Var(ȳ_i) = Var_items(E[y | item]) + E_items[Var(y | item)] / k
//              (between items)            (judging noise, shrunk by k)
//
// Estimated from the data: s²_B, the sample variance of the item means (n − 1), and s²_i, each item's sample
// variance over its own k_i judgings (k_i − 1). The judging part of Var(ȳ_i) is J = mean_i(s²_i / k_i), the
// item part s²_B − J (clipped at 0). The metric's standard error is √(s²_B / n) — it carries both parts —
// and the interval it gives, with a t quantile on n − 1 degrees of freedom, is the metric's interval with
// the judging noise added; the one without it, √((s²_B − J) / n), is what a perfectly repeatable judge
// would leave. Items judged once add to the mean and between-item variance but not to J.

export interface RepeatStatistics {
  /** Items with at least one usable judging. */
  items: number;
  /** Items judged at least twice (the ones flips and judging variance are measured on). */
  repeated_items: number;
  /** The largest number of usable judgings of one item. */
  k: number;
  /** Of repeated items, the share whose judgings are not all equal. */
  flip_share: number | null;
  /** Mean over repeated items of the share of pairs of judgings that agree. */
  agreement: number | null;
  /** s²_B: sample variance of the item means. */
  between_variance: number | null;
  /** Mean over repeated items of s²_i, the variance of one judging of an item. */
  within_variance: number | null;
  /** J = mean_i(s²_i / k_i): the part of s²_B due to judging. */
  judging_variance: number | null;
  /** Share of s²_B that is judging noise (J / s²_B). */
  judging_share: number | null;
  /** The mean of item means, with the interval that carries the judging noise. */
  estimate: Estimate;
  /** The same mean's interval without the judging part (s²_B − J): for comparison. */
  without_judging: Estimate;
}

function sampleVariance(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const average = values.reduce((sum, value) => sum + value, 0) / values.length;
  return values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1);
}

/** Share of the pairs of values that are equal (1 for a single value… never asked: needs two). */
export function pairAgreement(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let equal = 0;
  for (const count of counts.values()) equal += (count * (count - 1)) / 2;
  return equal / ((values.length * (values.length - 1)) / 2);
}

function interval(center: number, variance: number | null, n: number, range?: [number, number]): Estimate {
  if (variance === null || n < 2) return { estimate: center, stderr: null, ci95: null, n };
  const stderr = Math.sqrt(variance / n);
  const half = studentTQuantile(0.975, n - 1) * stderr;
  let low = center - half;
  let high = center + half;
  if (range) [low, high] = [Math.max(range[0], low), Math.min(range[1], high)];
  return { estimate: center, stderr, ci95: [low, high], n };
}

/** The repeat statistics of items' judgings (each list: one item's usable values); `range` clips the intervals. */
export function repeatStatistics(judgings: ReadonlyArray<readonly number[]>, range?: [number, number]): RepeatStatistics {
  const items = judgings.filter((values) => values.length > 0);
  const repeated = items.filter((values) => values.length > 1);
  const means = items.map((values) => values.reduce((sum, value) => sum + value, 0) / values.length);
  const n = items.length;
  const center = n > 0 ? means.reduce((sum, value) => sum + value, 0) / n : null;
  const between = sampleVariance(means);
  const within = repeated.length > 0 ? repeated.reduce((sum, values) => sum + sampleVariance(values)!, 0) / repeated.length : null;
  // Over all n items: an item judged once contributes no judging variance it could show.
  const judging = repeated.length > 0 ? repeated.reduce((sum, values) => sum + sampleVariance(values)! / values.length, 0) / n : null;
  const empty: Estimate = { estimate: null, stderr: null, ci95: null, n: 0 };
  return {
    items: n,
    repeated_items: repeated.length,
    k: Math.max(0, ...items.map((values) => values.length)),
    flip_share: repeated.length > 0 ? repeated.filter((values) => values.some((value) => value !== values[0])).length / repeated.length : null,
    agreement: repeated.length > 0 ? repeated.reduce((sum, values) => sum + pairAgreement(values), 0) / repeated.length : null,
    between_variance: between,
    within_variance: within,
    judging_variance: judging,
    judging_share: between !== null && judging !== null && between > 0 ? Math.min(1, judging / between) : null,
    estimate: center === null ? empty : interval(center, between, n, range),
    without_judging: center === null ? empty : interval(center, between === null ? null : Math.max(0, between - (judging ?? 0)), n, range),
  };
}
