// An L1-regularised logistic regression with soft targets, the model AlpacaEval's length-controlled win rate
// fits (Dubois et al. 2024). The objective is liblinear's L1 logistic loss, which scikit-learn's
// `LogisticRegression(penalty="l1", solver="liblinear", fit_intercept=False)` minimises, with a soft target
// p ∈ [0, 1] in place of a label (AlpacaEval gets it by duplicating each row as label 1 weighted p and label
// 0 weighted 1 − p, which is the same sum):
//
//   minimise over w   ‖w‖₁ + C · Σᵢ sᵢ · [ pᵢ · log(1 + e^(−zᵢ)) + (1 − pᵢ) · log(1 + e^(zᵢ)) ],   zᵢ = xᵢ · w
//
// Solved by proximal Newton steps (below). The problem is
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

/**
 * Fits the model to `tolerance` (the largest violation of the optimality conditions, relative to the one at
 * w = 0). Proximal Newton (newGLMNET, Yuan, Ho and Lin 2012, which liblinear uses): each outer step
 * minimises the quadratic model of the smooth part plus the L1 term by coordinate descent, then a
 * backtracking line search on the true objective; it converges in few steps even when columns are
 * strongly correlated (the model column and the difficulty column), where plain coordinate descent crawls.
 */
export function fitLogisticL1(problem: LogisticL1Problem, options: { tolerance?: number; maxIterations?: number } = {}): LogisticL1Fit {
  const tolerance = options.tolerance ?? 1e-9;
  const maxIterations = options.maxIterations ?? 500;
  const n = problem.targets.length;
  const columns = problem.columns.map((column) => toSparse(column, n));
  const p = columns.length;
  const targets = Float64Array.from(problem.targets);
  const scale = Float64Array.from({ length: n }, (_, i) => problem.C * (problem.weights ? problem.weights[i]! : 1));
  const w = new Float64Array(p);
  const z = new Float64Array(n);
  const curvature = new Float64Array(n);
  const gradient = new Float64Array(p);
  const direction = new Float64Array(p);
  const moved = new Float64Array(n);
  const objective = (margins: Float64Array, coefficients: Float64Array) => {
    let total = 0;
    for (let i = 0; i < n; i++) total += scale[i]! * softLoss(margins[i]!, targets[i]!);
    for (let j = 0; j < p; j++) total += Math.abs(coefficients[j]!);
    return total;
  };
  let reference: number | undefined;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    for (let i = 0; i < n; i++) {
      const q = logistic(z[i]!);
      curvature[i] = scale[i]! * q * (1 - q);
      moved[i] = scale[i]! * (q - targets[i]!); // the loss's derivative in z, reused below
    }
    let violation = 0;
    for (let j = 0; j < p; j++) {
      const { rows, values } = columns[j]!;
      let g = 0;
      for (let k = 0; k < rows.length; k++) g += moved[rows[k]!]! * values[k]!;
      gradient[j] = g;
      violation = Math.max(violation, optimalityViolation(w[j]!, g));
    }
    reference ??= Math.max(violation, 1e-300);
    if (violation <= tolerance * Math.max(1, reference)) return { coefficients: [...w], iterations: iteration - 1, converged: true };
    // Coordinate descent on the quadratic model: d minimising g·d + ½ dᵀ(XᵀDX)d + ‖w + d‖₁.
    direction.fill(0);
    moved.fill(0); // now X·d
    for (let sweep = 0; sweep < 100; sweep++) {
      let largest = 0;
      for (let j = 0; j < p; j++) {
        const { rows, values } = columns[j]!;
        let g = gradient[j]!;
        let h = 1e-12;
        for (let k = 0; k < rows.length; k++) {
          const i = rows[k]!;
          g += curvature[i]! * values[k]! * moved[i]!;
          h += curvature[i]! * values[k]! * values[k]!;
        }
        const at = w[j]! + direction[j]!;
        let step: number;
        if (g + 1 <= h * at) step = -(g + 1) / h;
        else if (g - 1 >= h * at) step = -(g - 1) / h;
        else step = -at;
        if (step === 0) continue;
        direction[j] = direction[j]! + step;
        for (let k = 0; k < rows.length; k++) moved[rows[k]!] = moved[rows[k]!]! + step * values[k]!;
        largest = Math.max(largest, Math.abs(step) * Math.sqrt(h));
      }
      if (largest <= Math.max(1e-3 * violation, 1e-14 * reference)) break; // looser while far from the optimum
    }
    // Backtracking (Armijo) on the true objective along d.
    let predicted = 0;
    for (let j = 0; j < p; j++) predicted += gradient[j]! * direction[j]! + Math.abs(w[j]! + direction[j]!) - Math.abs(w[j]!);
    const before = objective(z, w);
    let size = 1;
    const trialZ = new Float64Array(n);
    const trialW = new Float64Array(p);
    let accepted = false;
    for (let trial = 0; trial < 50; trial++) {
      for (let i = 0; i < n; i++) trialZ[i] = z[i]! + size * moved[i]!;
      for (let j = 0; j < p; j++) trialW[j] = w[j]! + size * direction[j]!;
      if (objective(trialZ, trialW) - before <= 0.01 * size * predicted) {
        accepted = true;
        break;
      }
      size /= 2;
    }
    let change = 0;
    for (let j = 0; j < p; j++) change = Math.max(change, Math.abs(trialW[j]! - w[j]!) / (1 + Math.abs(w[j]!)));
    // No step left at this precision (rounding bounds the violation): stop, converged if it is small anyway.
    if (!accepted || change <= 1e-15) return { coefficients: [...w], iterations: iteration, converged: violation <= 1e-6 * Math.max(1, reference) };
    z.set(trialZ);
    w.set(trialW);
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
