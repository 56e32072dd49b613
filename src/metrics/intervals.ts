import { studentTQuantile } from "./t-distribution.js";

/** A point estimate with its standard error and 95% interval. Null where the data cannot support one. */
export interface Estimate {
  estimate: number | null;
  stderr: number | null;
  ci95: [number, number] | null;
  n: number;
}

/** The standard normal's 0.975 quantile. */
export const Z95 = 1.959963984540054;

/**
 * A proportion with the Wilson score interval, which stays inside [0, 1] and behaves at 0 and n successes,
 * where the normal (Wald) interval collapses to a point.
 */
export function proportion(successes: number, n: number): Estimate & { successes: number } {
  if (n === 0) return { estimate: null, stderr: null, ci95: null, n, successes };
  const p = successes / n;
  return { estimate: p, stderr: Math.sqrt((p * (1 - p)) / n), ci95: wilsonBounds(p, n), n, successes };
}

/**
 * The Wilson score 95% bounds of a share p observed on n (which need not be a whole number: a
 * design-effect-adjusted n is not). At p = 0 the lower bound is exactly 0 and at p = 1 the upper bound
 * exactly 1: computed as centre − half-width they can land a rounding error inside.
 */
export function wilsonBounds(p: number, n: number, z = Z95): [number, number] {
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  const low = p <= 0 ? 0 : Math.max(0, centre - half);
  const high = p >= 1 ? 1 : Math.min(1, centre + half);
  return [low, high];
}

/**
 * A mean with a t interval (n - 1 degrees of freedom); n = 1 gives the mean with no interval. For a score
 * with a known range (judge scores live in [0, 1]) the interval is clipped to it, since the t interval of
 * a small sample can reach past values the score cannot take.
 */
export function mean(n: number, sampleMean: number | null, sampleSd: number | null, range?: [number, number]): Estimate {
  if (n === 0 || sampleMean === null) return { estimate: null, stderr: null, ci95: null, n };
  if (n < 2 || sampleSd === null) return { estimate: sampleMean, stderr: null, ci95: null, n };
  const stderr = sampleSd / Math.sqrt(n);
  const half = studentTQuantile(0.975, n - 1) * stderr;
  let low = sampleMean - half;
  let high = sampleMean + half;
  if (range) {
    low = Math.max(range[0], low);
    high = Math.min(range[1], high);
  }
  return { estimate: sampleMean, stderr, ci95: [low, high], n };
}

/** Mean and sample SD of raw values (for callers that hold values rather than SQL aggregates). */
export function meanOf(values: number[]): Estimate {
  const n = values.length;
  if (n === 0) return mean(0, null, null);
  const average = values.reduce((sum, value) => sum + value, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (n - 1)) : null;
  return mean(n, average, sd);
}
