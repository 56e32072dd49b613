import { seededRandom } from "../common/seeded-random.js";

// A seeded percentile bootstrap over independent samples: each sample is resampled with replacement on its
// own, the statistic is taken on every set of resamples, and the interval is the 2.5th and 97.5th
// percentiles of those values. Same seed, same interval: the seed and the number of resamples are reported
// with it.

/** The q-quantile of sorted values, interpolated linearly between order statistics (numpy's default, R's type 7). */
export function quantileSorted(sorted: number[], q: number): number {
  if (sorted.length === 0) throw new Error("quantile of no values");
  const h = (sorted.length - 1) * q;
  const low = Math.floor(h);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (h - low) * (sorted[high]! - sorted[low]!);
}

export interface BootstrapResult {
  /** The standard deviation of the resampled statistics (n − 1). */
  stderr: number;
  ci95: [number, number];
  seed: number;
  resamples: number;
}

/**
 * The statistic's bootstrap distribution over `samples` (each non-empty), resampling each sample
 * independently with `resamples` draws from seededRandom(seed), in sample order then item order.
 */
export function bootstrapIndependent(samples: number[][], statistic: (means: number[]) => number, resamples: number, seed: number): BootstrapResult {
  if (samples.some((sample) => sample.length === 0)) throw new Error("bootstrap of an empty sample");
  const random = seededRandom(seed);
  const values = new Float64Array(resamples);
  const means = new Array<number>(samples.length);
  for (let b = 0; b < resamples; b++) {
    samples.forEach((sample, index) => {
      let sum = 0;
      for (let i = 0; i < sample.length; i++) sum += sample[Math.floor(random() * sample.length)]!;
      means[index] = sum / sample.length;
    });
    values[b] = statistic(means);
  }
  const sorted = Array.from(values).sort((a, b) => a - b);
  const average = sorted.reduce((sum, value) => sum + value, 0) / resamples;
  const variance = resamples > 1 ? sorted.reduce((sum, value) => sum + (value - average) ** 2, 0) / (resamples - 1) : 0;
  return { stderr: Math.sqrt(variance), ci95: [quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)], seed, resamples };
}
