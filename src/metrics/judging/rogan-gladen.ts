import { seededRandom } from "../../common/seeded-random.js";
import { quantileSorted } from "../bootstrap.js";

// A judge with sensitivity se (it says 1 on a share se of the items that truly are 1) and specificity sp
// (it says 0 on a share sp of those truly 0) reports, on a set whose true rate is π, the rate
// p = se·π + (1 − sp)(1 − π). Solved for π: the Rogan–Gladen (1978) estimator
//   π̂ = (p + sp − 1) / (se + sp − 1),
// clipped to [0, 1] (sampling noise can put it outside). It needs se + sp > 1 (a judge better than a coin);
// otherwise there is no correction. The interval is a seeded percentile bootstrap that resamples three
// independent samples at once: the run's 0/1 verdicts (p), the judge-eval's verdicts on items labelled 1
// (se) and its verdicts on items labelled 0, as "said 0" (sp). So it carries the uncertainty of both the run
// and the judge-eval; resamples where se + sp ≤ 1 are dropped and counted.

export function roganGladen(observed: number, sensitivity: number, specificity: number): number | null {
  const youden = sensitivity + specificity - 1;
  if (!(youden > 0)) return null;
  return Math.min(1, Math.max(0, (observed + specificity - 1) / youden));
}

export interface CorrectedRate {
  observed: number;
  sensitivity: number;
  specificity: number;
  /** Null when the judge is no better than chance (se + sp ≤ 1). */
  corrected: number | null;
  ci95: [number, number] | null;
  stderr: number | null;
  /** Run verdicts, judge-eval items labelled 1 and labelled 0. */
  n: { run: number; positives: number; negatives: number };
  bootstrap: { seed: number; resamples: number; dropped: number };
}

export interface JudgeEvalCounts {
  /** Items labelled 1 the judge called 1 / called 0; items labelled 0 the judge called 0 / called 1. */
  tp: number;
  fn: number;
  tn: number;
  fp: number;
}

/** The corrected rate of the run's 0/1 verdicts `successes` of `n`, given the judge-eval's confusion counts. */
export function correctedRate(successes: number, n: number, counts: JudgeEvalCounts, options: { seed?: number; resamples?: number } = {}): CorrectedRate | null {
  const positives = counts.tp + counts.fn;
  const negatives = counts.tn + counts.fp;
  if (n === 0 || positives === 0 || negatives === 0) return null;
  const seed = options.seed ?? 20231;
  const resamples = options.resamples ?? 2000;
  const observed = successes / n;
  const sensitivity = counts.tp / positives;
  const specificity = counts.tn / negatives;
  const ones = (count: number, total: number) => Array.from({ length: total }, (_, index) => (index < count ? 1 : 0));
  const kept = correctedResamples([ones(successes, n), ones(counts.tp, positives), ones(counts.tn, negatives)], resamples, seed);
  let ci95: [number, number] | null = null;
  let stderr: number | null = null;
  if (kept.length >= 2) {
    const average = kept.reduce((sum, value) => sum + value, 0) / kept.length;
    stderr = Math.sqrt(kept.reduce((sum, value) => sum + (value - average) ** 2, 0) / (kept.length - 1));
    ci95 = [quantileSorted(kept, 0.025), quantileSorted(kept, 0.975)];
  }
  return {
    observed,
    sensitivity,
    specificity,
    corrected: roganGladen(observed, sensitivity, specificity),
    ci95,
    stderr,
    n: { run: n, positives, negatives },
    bootstrap: { seed, resamples, dropped: resamples - kept.length },
  };
}

/**
 * Resamples each sample with replacement (seededRandom(seed), sample order then item order, as
 * bootstrapIndependent draws) and returns the sorted corrected rates, without the resamples that have none.
 */
function correctedResamples(samples: number[][], resamples: number, seed: number): number[] {
  const random = seededRandom(seed);
  const kept: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const means = samples.map((sample) => {
      let sum = 0;
      for (let i = 0; i < sample.length; i++) sum += sample[Math.floor(random() * sample.length)]!;
      return sum / sample.length;
    });
    const value = roganGladen(means[0]!, means[1]!, means[2]!);
    if (value !== null) kept.push(value);
  }
  return kept.sort((a, b) => a - b);
}
