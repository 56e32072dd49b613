import { studentTQuantile } from "./t-distribution.js";
import { wilsonBounds, type Estimate } from "./intervals.js";
import { seededRandom } from "../common/seeded-random.js";

/**
 * A mean with a cluster-robust standard error: items that share a cluster (several prompts of one
 * behaviour, several epochs of one item) are not independent, and treating them as if they were makes
 * intervals too narrow. SE = sqrt(G/(G−1) · Σ_g (Σ_{i∈g} (y_i − ȳ))²) / n, with a t interval on G − 1
 * degrees of freedom (the CR1 estimator). With one item per cluster it equals the ordinary SE.
 */
export function clusteredMean(values: number[], clusters: string[], range?: [number, number]): Estimate & { clusters: number } {
  return clusteredMeanFromSums(clusterSumsOf(values, clusters), range);
}

/** Per-cluster row counts and sums of values labelled by cluster. */
export function clusterSumsOf(values: readonly number[], clusters: readonly string[]): ClusterSums[] {
  if (values.length !== clusters.length) throw new RangeError("one cluster label per value");
  const sums = new Map<string, ClusterSums>();
  values.forEach((value, index) => {
    const label = clusters[index]!;
    const entry = sums.get(label);
    if (entry) {
      entry.n++;
      entry.sum += value;
    } else sums.set(label, { n: 1, sum: value });
  });
  return [...sums.values()];
}

/** Percentile bootstrap interval of any statistic of a sample, for when no formula fits. */
export function bootstrapInterval(values: number[], statistic: (sample: number[]) => number, options: { resamples?: number; seed?: number } = {}): Estimate {
  const n = values.length;
  if (n === 0) return { estimate: null, stderr: null, ci95: null, n };
  const estimate = statistic(values);
  if (n === 1) return { estimate, stderr: null, ci95: null, n };
  const next = seededRandom(options.seed ?? 1);
  const resamples = options.resamples ?? 2000;
  const stats: number[] = [];
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(next() * n)]!;
    stats.push(statistic(sample));
  }
  stats.sort((a, b) => a - b);
  const mean = stats.reduce((sum, value) => sum + value, 0) / resamples;
  const stderr = Math.sqrt(stats.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (resamples - 1));
  const at = (q: number) => stats[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!;
  return { estimate, stderr, ci95: [at(0.025), at(0.975)], n };
}

/** A cluster's share of the data: its rows and the sum of their values. */
export interface ClusterSums {
  n: number;
  sum: number;
}

/** Mean, cluster count and the CR1 variance of the mean from per-cluster sums; null variance below two clusters. */
function cr1(clusters: Iterable<ClusterSums>): { n: number; mean: number; groups: number; variance: number | null } | null {
  const list = [...clusters].filter((cluster) => cluster.n > 0);
  const n = list.reduce((total, cluster) => total + cluster.n, 0);
  if (n === 0) return null;
  const mean = list.reduce((total, cluster) => total + cluster.sum, 0) / n;
  const groups = list.length;
  if (groups < 2) return { n, mean, groups, variance: null };
  const squares = list.reduce((total, cluster) => total + (cluster.sum - cluster.n * mean) ** 2, 0);
  return { n, mean, groups, variance: ((groups / (groups - 1)) * squares) / (n * n) };
}

/**
 * The same CR1 estimator from per-cluster counts and sums only (n_g, S_g), so a streaming summary can
 * keep one small record per cluster instead of every value: Σ_g (S_g − n_g·ȳ)² replaces the sum of the
 * per-item deviations within each cluster. A bounded score's interval is clipped to its range.
 */
export function clusteredMeanFromSums(clusters: Iterable<ClusterSums>, range?: [number, number]): Estimate & { clusters: number } {
  const fit = cr1(clusters);
  if (!fit) return { estimate: null, stderr: null, ci95: null, n: 0, clusters: 0 };
  const { n, mean, groups, variance } = fit;
  if (variance === null) return { estimate: mean, stderr: null, ci95: null, n, clusters: groups };
  const stderr = Math.sqrt(variance);
  const half = studentTQuantile(0.975, groups - 1) * stderr;
  const ci95: [number, number] = range ? [Math.max(range[0], mean - half), Math.min(range[1], mean + half)] : [mean - half, mean + half];
  return { estimate: mean, stderr, ci95, n, clusters: groups };
}

/** A rate over clustered rows: the share, with how much the clustering costs. */
export interface ClusteredProportion extends Estimate {
  clusters: number;
  /** CR1 variance of the share over its variance with rows taken as independent, floored at 1. */
  design_effect: number;
  /** The n the Wilson interval is computed on: n / design effect, times Korn and Graubard's (t_{n−1} / t_{G−1})². */
  n_effective: number;
}

/**
 * A rate (0/1 rows) whose rows share clusters, with a Wilson interval on the design-effect-adjusted n
 * (Korn & Graubard 1998): the CR1 standard error alone would give a symmetric interval that can leave
 * [0, 1] and collapses to a point when every value is 0 or 1, or when every cluster has the same share.
 *
 * - deff = CR1 variance of the share / (s²/n), the variance with rows taken as independent (so one row per
 *   cluster gives deff = 1 and the plain Wilson interval); floored at 1, since repeats of an item cannot
 *   make the data worth more than independent rows, and 1 where it is undefined (a share of 0 or 1);
 * - n_eff = n / deff · (t_{0.975, n−1} / t_{0.975, G−1})², which widens the interval for few clusters
 *   as the CR1 t interval on G − 1 degrees of freedom does;
 * - the interval: Wilson's at the share p on n_eff.
 *
 * The standard error reported is the CR1 one. One cluster gives the share with no interval.
 */
export function clusteredProportion(clusters: Iterable<ClusterSums>): ClusteredProportion {
  const fit = cr1(clusters);
  if (!fit) return { estimate: null, stderr: null, ci95: null, n: 0, clusters: 0, design_effect: 1, n_effective: 0 };
  const { n, mean: p, groups, variance } = fit;
  if (variance === null) return { estimate: p, stderr: null, ci95: null, n, clusters: groups, design_effect: 1, n_effective: n };
  const independent = (p * (1 - p)) / (n - 1);
  const designEffect = independent > 0 ? Math.max(1, variance / independent) : 1;
  const degrees = (studentTQuantile(0.975, n - 1) / studentTQuantile(0.975, groups - 1)) ** 2;
  const effective = (n / designEffect) * degrees;
  return { estimate: p, stderr: Math.sqrt(variance), ci95: wilsonBounds(p, effective), n, clusters: groups, design_effect: designEffect, n_effective: effective };
}
