// Dawid & Skene (1979), "Maximum likelihood estimation of observer error-rates using the EM algorithm": with
// no reference labels, each judge's reliability is estimated from how the judges agree. Every item has an
// unknown true class; each judge has a confusion matrix θ_r[c][l] (the chance it says l when the truth is c)
// and the classes have priors π_c. EM alternates:
//   E: T_ic ∝ π_c · Π_r Π_l θ_r[c][l]^{n_irl}   (posterior of item i's class; n_irl: r's votes for l on i)
//   M: π_c = mean_i T_ic;   θ_r[c][l] = Σ_i T_ic n_irl / Σ_i T_ic Σ_l n_irl
// starting from the majority vote's shares (as the paper does), until the log-likelihood gains less than
// `tolerance` or `maxIterations` pass. No smoothing: a judge that never errs gets θ = 1 on the diagonal.
// A judge's reliability is Σ_c π_c θ_r[c][c], its expected accuracy on an item drawn from the priors.

export interface DawidSkeneInput {
  /** Item ids, rater names and class labels, in a fixed order. */
  items: readonly string[];
  raters: readonly string[];
  classes: readonly string[];
  /** Each vote: item index, rater index, class index (a rater may vote several times on one item). */
  votes: ReadonlyArray<readonly [item: number, rater: number, label: number]>;
}

export interface DawidSkeneResult {
  classes: string[];
  priors: number[];
  raters: Array<{ rater: string; reliability: number; confusion: number[][] }>;
  /** Each item's posterior over the classes, and its most likely class (ties: the earlier class). */
  posteriors: number[][];
  labels: string[];
  iterations: number;
  converged: boolean;
  log_likelihood: number;
}

export function dawidSkene(input: DawidSkeneInput, options: { maxIterations?: number; tolerance?: number } = {}): DawidSkeneResult {
  const { items, raters, classes, votes } = input;
  const K = classes.length;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-8;
  if (K < 2) throw new Error("Dawid–Skene needs at least two classes");
  // Majority-vote initialisation: each item's share of votes per class.
  let posteriors = items.map(() => new Array<number>(K).fill(0));
  for (const [item, , label] of votes) posteriors[item]![label]! += 1;
  posteriors = posteriors.map((row) => {
    const total = row.reduce((sum, value) => sum + value, 0);
    return total > 0 ? row.map((value) => value / total) : row.map(() => 1 / K);
  });
  let priors: number[] = [];
  let confusion: number[][][] = [];
  let logLikelihood = -Infinity;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    // M step.
    priors = new Array<number>(K).fill(0);
    for (const row of posteriors) row.forEach((value, c) => (priors[c]! += value / items.length));
    confusion = raters.map(() => classes.map(() => new Array<number>(K).fill(0)));
    for (const [item, rater, label] of votes) for (let c = 0; c < K; c++) confusion[rater]![c]![label]! += posteriors[item]![c]!;
    for (const matrix of confusion)
      for (const row of matrix) {
        const total = row.reduce((sum, value) => sum + value, 0);
        for (let l = 0; l < K; l++) row[l] = total > 0 ? row[l]! / total : 1 / K;
      }
    // E step, in logs (many judges multiply many small numbers).
    const logs = items.map(() => priors.map((prior) => Math.log(prior)));
    for (const [item, rater, label] of votes) for (let c = 0; c < K; c++) logs[item]![c]! += Math.log(confusion[rater]![c]![label]!);
    let next = 0;
    posteriors = logs.map((row) => {
      const top = Math.max(...row);
      if (top === -Infinity) return row.map(() => 1 / K);
      const weights = row.map((value) => Math.exp(value - top));
      const total = weights.reduce((sum, value) => sum + value, 0);
      next += top + Math.log(total);
      return weights.map((value) => value / total);
    });
    const gain = next - logLikelihood;
    logLikelihood = next;
    if (Math.abs(gain) < tolerance) {
      converged = true;
      break;
    }
  }
  return {
    classes: [...classes],
    priors,
    raters: raters.map((rater, r) => ({ rater, reliability: priors.reduce((sum, prior, c) => sum + prior * confusion[r]![c]![c]!, 0), confusion: confusion[r]! })),
    posteriors,
    labels: posteriors.map((row) => classes[row.indexOf(Math.max(...row))]!),
    iterations,
    converged,
    log_likelihood: logLikelihood,
  };
}
