import { studentTQuantile } from "./t-distribution.js";
import type { Estimate } from "./intervals.js";
import { seededRandom } from "../common/seeded-random.js";

/**
 * A mean with a cluster-robust standard error: items that share a cluster (several prompts of one
 * behaviour, several epochs of one item) are not independent, and treating them as if they were makes
 * intervals too narrow. SE = sqrt(G/(G−1) · Σ_g (Σ_{i∈g} (y_i − ȳ))²) / n, with a t interval on G − 1
 * degrees of freedom (the CR1 estimator). With one item per cluster it equals the ordinary SE.
 */
export function clusteredMean(values: number[], clusters: string[]): Estimate & { clusters: number } {
  const n = values.length;
  if (n !== clusters.length) throw new RangeError("one cluster label per value");
  if (n === 0) return { estimate: null, stderr: null, ci95: null, n: 0, clusters: 0 };
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const sums = new Map<string, number>();
  values.forEach((value, index) => sums.set(clusters[index]!, (sums.get(clusters[index]!) ?? 0) + value - mean));
  const groups = sums.size;
  if (groups < 2) return { estimate: mean, stderr: null, ci95: null, n, clusters: groups };
  let squares = 0;
  for (const sum of sums.values()) squares += sum * sum;
  const stderr = Math.sqrt((groups / (groups - 1)) * squares) / n;
  const half = studentTQuantile(0.975, groups - 1) * stderr;
  return { estimate: mean, stderr, ci95: [mean - half, mean + half], n, clusters: groups };
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

/**
 * The same CR1 estimator from per-cluster counts and sums only (n_g, S_g), so a streaming summary can
 * keep one small record per cluster instead of every value: Σ_g (S_g − n_g·ȳ)² replaces the sum of the
 * per-item deviations within each cluster.
 */
export function clusteredMeanFromSums(clusters: Iterable<{ n: number; sum: number }>): Estimate & { clusters: number } {
  const list = [...clusters].filter((cluster) => cluster.n > 0);
  const n = list.reduce((total, cluster) => total + cluster.n, 0);
  if (n === 0) return { estimate: null, stderr: null, ci95: null, n: 0, clusters: 0 };
  const mean = list.reduce((total, cluster) => total + cluster.sum, 0) / n;
  const groups = list.length;
  if (groups < 2) return { estimate: mean, stderr: null, ci95: null, n, clusters: groups };
  const squares = list.reduce((total, cluster) => total + (cluster.sum - cluster.n * mean) ** 2, 0);
  const stderr = Math.sqrt((groups / (groups - 1)) * squares) / n;
  const half = studentTQuantile(0.975, groups - 1) * stderr;
  return { estimate: mean, stderr, ci95: [mean - half, mean + half], n, clusters: groups };
}
