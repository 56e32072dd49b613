// An L1-regularised logistic regression with soft targets, the model AlpacaEval's length-controlled win rate
// fits (Dubois et al. 2024). The objective is liblinear's L1 logistic loss, which scikit-learn's
// `LogisticRegression(penalty="l1", solver="liblinear", fit_intercept=False)` minimises, with a soft target
// p ∈ [0, 1] in place of a label (AlpacaEval gets it by duplicating each row as label 1 weighted p and label
// 0 weighted 1 − p, which is the same sum):
//
//   minimise over w   ‖w‖₁ + C · Σᵢ sᵢ · [ pᵢ · log(1 + e^(−zᵢ)) + (1 − pᵢ) · log(1 + e^(zᵢ)) ],   zᵢ = xᵢ · w
//
// Solved by cyclic coordinate descent with a one-dimensional Newton step, soft-thresholded for the L1 term,
// and a backtracking line search (the CDN method of Yuan, Chang, Hsieh and Lin, JMLR 2010). The problem is
// convex, so any solver run to a tight tolerance reaches the same minimum; liblinear's own default stopping
// tolerance is loose (1e-4), which is why the reference values were computed with a tight one.

/** A feature column: its value on each row (dense), or only on the rows it is non-zero on (sparse). */
export type FeatureColumn = Float64Array | { rows: Int32Array; values: Float64Array };

export interface LogisticL1Problem {
  /** One column per feature, each of length n (or sparse over n rows). No intercept is added. */
  columns: FeatureColumn[];
  /** The soft target of each row: the probability that the outcome is 1. */
  targets: ArrayLike<number>;
  /** Row weights (scikit-learn's sample_weight); 1 when absent. */
  weights?: ArrayLike<number>;
  /** The inverse regularisation strength (scikit-learn's C). */
  C: number;
}

export interface LogisticL1Fit {
  coefficients: number[];
  /** Full sweeps over the coordinates. */
  iterations: number;
  /** Whether the optimality conditions held to the tolerance before the iteration limit. */
  converged: boolean;
}

/** Numerically stable log(1 + e^x). */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** The logistic function 1 / (1 + e^(−x)), stable for large |x|. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** A row's soft cross-entropy at margin z (the loss inside the sum above). */
export function softLoss(z: number, p: number): number {
  return p * softplus(-z) + (1 - p) * softplus(z);
}

interface Sparse {
  rows: Int32Array;
  values: Float64Array;
}

function toSparse(column: FeatureColumn, n: number): Sparse {
  if (column instanceof Float64Array) {
    if (column.length !== n) throw new Error(`feature column has ${column.length} rows, expected ${n}`);
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (column[i] !== 0) rows.push(i);
    return { rows: Int32Array.from(rows), values: Float64Array.from(rows, (row) => column[row]!) };
  }
  return column;
}

/** Fits the model to `tolerance` (the largest violation of the optimality conditions, relative to the first). */
export function fitLogisticL1(problem: LogisticL1Problem, options: { tolerance?: number; maxIterations?: number } = {}): LogisticL1Fit {
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 10_000;
  const n = problem.targets.length;
  const columns = problem.columns.map((column) => toSparse(column, n));
  const targets = Float64Array.from(problem.targets);
  const scale = Float64Array.from({ length: n }, (_, i) => problem.C * (problem.weights ? problem.weights[i]! : 1));
  const w = new Float64Array(columns.length);
  const z = new Float64Array(n);
  let firstViolation: number | undefined;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    let violation = 0;
    for (let j = 0; j < columns.length; j++) {
      const { rows, values } = columns[j]!;
      let gradient = 0;
      let hessian = 0;
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!;
        const x = values[k]!;
        const q = logistic(z[i]!);
        gradient += scale[i]! * x * (q - targets[i]!);
        hessian += scale[i]! * x * x * q * (1 - q);
      }
      violation = Math.max(violation, optimalityViolation(w[j]!, gradient));
      // The Newton step on the smooth part with the L1 term's subgradient, soft-thresholded at zero.
      const curvature = Math.max(hessian, 1e-12);
      let step: number;
      if (gradient + 1 <= curvature * w[j]!) step = -(gradient + 1) / curvature;
      else if (gradient - 1 >= curvature * w[j]!) step = -(gradient - 1) / curvature;
      else step = -w[j]!;
      if (step === 0) continue;
      // Armijo backtracking on the full objective, which changes only on this column's rows.
      const predicted = gradient * step + Math.abs(w[j]! + step) - Math.abs(w[j]!);
      let size = 1;
      for (let trial = 0; trial < 60; trial++) {
        let change = Math.abs(w[j]! + size * step) - Math.abs(w[j]!);
        for (let k = 0; k < rows.length; k++) {
          const i = rows[k]!;
          change += scale[i]! * (softLoss(z[i]! + size * step * values[k]!, targets[i]!) - softLoss(z[i]!, targets[i]!));
        }
        if (change <= 0.01 * size * predicted || trial === 59) break;
        size /= 2;
      }
      const delta = size * step;
      w[j] = w[j]! + delta;
      for (let k = 0; k < rows.length; k++) z[rows[k]!] = z[rows[k]!]! + delta * values[k]!;
    }
    firstViolation ??= Math.max(violation, 1e-300);
    if (violation <= tolerance * Math.max(1, firstViolation)) return { coefficients: [...w], iterations: iteration, converged: true };
  }
  return { coefficients: [...w], iterations: maxIterations, converged: false };
}

/** How far coefficient w with smooth-part gradient g is from optimal: 0 exactly at the L1 problem's minimum. */
function optimalityViolation(w: number, gradient: number): number {
  if (w > 0) return Math.abs(gradient + 1);
  if (w < 0) return Math.abs(gradient - 1);
  return Math.max(0, Math.abs(gradient) - 1);
}

/** The predicted probability of each row under coefficients w. */
export function predictLogistic(columns: FeatureColumn[], w: readonly number[], n: number): Float64Array {
  const z = new Float64Array(n);
  columns.forEach((column, j) => {
    const { rows, values } = toSparse(column, n);
    for (let k = 0; k < rows.length; k++) z[rows[k]!] = z[rows[k]!]! + w[j]! * values[k]!;
  });
  return z.map(logistic);
}
