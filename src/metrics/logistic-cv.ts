import { type FeatureColumn, fitLogisticL1, logistic } from "./logistic-l1.js";

// Choosing the L1 logistic regression's C as AlpacaEval does with scikit-learn's LogisticRegressionCV:
// every C of the grid is fitted on all folds but one and scored by the mean soft log-loss on the held-out
// fold; the C with the lowest total wins (the first on ties, as numpy's argmax of the negated scores).

/** scikit-learn's default grid, LogisticRegressionCV(Cs=10): 10 values log-spaced from 1e-4 to 1e4. */
export const C_GRID: readonly number[] = Array.from({ length: 10 }, (_, k) => 10 ** (-4 + (8 * k) / 9));

type Sparse = { rows: Int32Array; values: Float64Array };

function sparse(column: FeatureColumn): Sparse {
  if (!(column instanceof Float64Array)) return column;
  const rows = Int32Array.from({ length: column.length }, (_, i) => i);
  return { rows, values: column };
}

/** The columns restricted to some rows, renumbered 0… in the order given. */
function restrict(columns: Sparse[], rows: readonly number[], n: number): Sparse[] {
  const position = new Int32Array(n).fill(-1);
  rows.forEach((row, k) => {
    position[row] = k;
  });
  return columns.map(({ rows: at, values }) => {
    const kept: number[] = [];
    const keptValues: number[] = [];
    for (let k = 0; k < at.length; k++) {
      if (position[at[k]!]! >= 0) {
        kept.push(position[at[k]!]!);
        keptValues.push(values[k]!);
      }
    }
    return { rows: Int32Array.from(kept), values: Float64Array.from(keptValues) };
  });
}

/** Mean soft log-loss over the given rows, predictions clipped to [1e-15, 1 − 1e-15] as scikit-learn's log_loss. */
function heldOutLoss(columns: Sparse[], w: readonly number[], targets: ArrayLike<number>, rows: readonly number[], n: number): number {
  const z = new Float64Array(n);
  columns.forEach(({ rows: at, values }, j) => {
    for (let k = 0; k < at.length; k++) z[at[k]!] = z[at[k]!]! + w[j]! * values[k]!;
  });
  let total = 0;
  for (const i of rows) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, logistic(z[i]!)));
    total -= targets[i]! * Math.log(q) + (1 - targets[i]!) * Math.log(1 - q);
  }
  return total / Math.max(rows.length, 1);
}

/** The grid's C with the lowest summed held-out loss; `fold` gives each row's fold, 0 … foldCount − 1. */
export function crossValidateC(columns: FeatureColumn[], targets: ArrayLike<number>, fold: ArrayLike<number>, foldCount: number): number {
  const n = targets.length;
  const all = columns.map(sparse);
  const splits = Array.from({ length: foldCount }, (_, f) => {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? test : train).push(i);
    return { train, test, columns: restrict(all, train, n), targets: Float64Array.from(train, (i) => targets[i]!) };
  });
  let best = C_GRID[0]!;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (const C of C_GRID) {
    let loss = 0;
    for (const split of splits) {
      const fit = fitLogisticL1({ columns: split.columns, targets: split.targets, C });
      loss += heldOutLoss(all, fit.coefficients, targets, split.test, n);
    }
    if (loss < bestLoss) {
      bestLoss = loss;
      best = C;
    }
  }
  return best;
}
