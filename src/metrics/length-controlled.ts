import { seededRandom } from "../common/seeded-random.js";
import { crossValidateC } from "./logistic-cv.js";
import { fitLogisticL1, logistic } from "./logistic-l1.js";

// AlpacaEval 2's length-controlled win rate (Dubois, Galambosi, Liang, Hashimoto 2024, "Length-Controlled
// AlpacaEval"; tatsu-lab/alpaca_eval, metrics/glm_winrate.py). For one model against the baseline, a GLM
// predicts the judge's preference for the model's output on instruction x:
//
//   P(model preferred | x) = logistic( θ + φ · tanh(Δlen_x / sd(Δlen)) + ψ · γ_x )
//
// with Δlen = len(model output) − len(baseline output) in characters, sd its sample standard deviation over
// the model's rows, γ_x the instruction's difficulty (optional here: see lc-winrate.ts), no intercept beyond
// θ, L1-regularised, fitted to soft preferences. The length-controlled win rate is the model's predicted
// preference with the length difference set to zero, averaged over its rows: mean_x logistic(θ + ψ · γ_x).
// AlpacaEval writes the length difference baseline − model; the sign only flips φ.
// C is chosen as AlpacaEval's LogisticRegressionCV does: among 10 values from 1e-4 to 1e4 (log-spaced), the
// one with the lowest held-out soft log-loss over 5 folds of instructions, then refitted on all rows.

/** One judged item of one model: the target's preference in [0, 1] and both outputs' lengths. */
export interface LengthObservation {
  instruction: string;
  preference: number;
  targetLength: number;
  baselineLength: number;
}

export interface LengthControlledFit {
  /** Mean predicted preference at zero length difference, in [0, 1]. */
  lcWinrate: number;
  /** θ, φ and (when a difficulty was given) ψ. */
  coefficients: { model: number; length: number; difficulty?: number };
  /** The regularisation strength used (chosen by cross-validation or given). */
  C: number;
  /** The sample standard deviation of Δlen the length feature was divided by (null when it is 0 or undefined). */
  lengthSd: number | null;
  converged: boolean;
}

/** AlpacaEval's C when it does not cross-validate (fewer instructions than two folds here). */
export const DEFAULT_C = 100;
export const FOLDS = 5;

interface Design {
  columns: Float64Array[];
  targets: Float64Array;
  /** The columns with the length difference set to zero (the counterfactual the LC win rate predicts). */
  neutral: Float64Array[];
  lengthSd: number | null;
}

/** The design matrix of the GLM for these rows: [θ: ones, φ: tanh(standardised Δlen), ψ: γ_x when given]. */
export function designFor(rows: readonly LengthObservation[], difficulty?: ReadonlyMap<string, number>): Design {
  const n = rows.length;
  const deltas = rows.map((row) => row.targetLength - row.baselineLength);
  const average = deltas.reduce((sum, value) => sum + value, 0) / Math.max(n, 1);
  const variance = n > 1 ? deltas.reduce((sum, value) => sum + (value - average) ** 2, 0) / (n - 1) : 0;
  const lengthSd = variance > 0 ? Math.sqrt(variance) : null;
  const ones = new Float64Array(n).fill(1);
  const length = Float64Array.from(deltas, (delta) => (lengthSd === null ? 0 : Math.tanh(delta / lengthSd)));
  const columns = [ones, length];
  const neutral = [ones, new Float64Array(n)];
  if (difficulty) {
    const gamma = Float64Array.from(rows, (row) => difficulty.get(row.instruction) ?? 0);
    columns.push(gamma);
    neutral.push(gamma);
  }
  return { columns, targets: Float64Array.from(rows, (row) => row.preference), neutral, lengthSd };
}

/** Each instruction's fold: instructions sorted by id, dealt round-robin, so the folds do not depend on row order. */
export function instructionFolds(instructions: Iterable<string>, folds = FOLDS): Map<string, number> {
  const sorted = [...new Set(instructions)].sort();
  return new Map(sorted.map((instruction, index) => [instruction, index % folds]));
}

/**
 * C by cross-validation over folds of instructions (see logistic-cv.ts); fewer than two distinct
 * instructions: AlpacaEval's fixed C.
 */
export function chooseC(rows: readonly LengthObservation[], design: Design): number {
  const distinct = new Set(rows.map((row) => row.instruction)).size;
  if (distinct < 2) return DEFAULT_C;
  const folds = instructionFolds(
    rows.map((row) => row.instruction),
    Math.min(FOLDS, distinct),
  );
  return crossValidateC(
    design.columns,
    design.targets,
    rows.map((row) => folds.get(row.instruction)!),
    Math.min(FOLDS, distinct),
  );
}

/** Fits the GLM to one model's rows (C cross-validated unless given) and predicts at zero length difference. */
export function fitLengthControlled(rows: readonly LengthObservation[], options: { difficulty?: ReadonlyMap<string, number>; C?: number } = {}): LengthControlledFit {
  const design = designFor(rows, options.difficulty);
  const C = options.C ?? chooseC(rows, design);
  const fit = fitLogisticL1({ columns: design.columns, targets: design.targets, C });
  const [model, length, difficulty] = fit.coefficients as [number, number, number | undefined];
  let total = 0;
  for (let i = 0; i < rows.length; i++) total += logistic(model * design.neutral[0]![i]! + (difficulty === undefined ? 0 : difficulty * design.neutral[2]![i]!));
  return {
    lcWinrate: total / rows.length,
    coefficients: difficulty === undefined ? { model, length } : { model, length, difficulty },
    C,
    lengthSd: design.lengthSd,
    converged: fit.converged,
  };
}

/**
 * The LC win rate refitted on bootstrap resamples of instructions (each drawn with replacement, with all its
 * rows), for an interval: the length scale is recomputed on each resample, C stays the one chosen on all
 * rows (cross-validating every resample would multiply the cost fiftyfold), the difficulties stay fixed.
 */
export function bootstrapLengthControlled(rows: readonly LengthObservation[], options: { C: number; difficulty?: ReadonlyMap<string, number>; seed: number; resamples: number }): number[] {
  const byInstruction = new Map<string, LengthObservation[]>();
  for (const row of rows) {
    const list = byInstruction.get(row.instruction);
    if (list) list.push(row);
    else byInstruction.set(row.instruction, [row]);
  }
  const instructions = [...byInstruction.keys()].sort();
  const random = seededRandom(options.seed);
  const values: number[] = [];
  for (let resample = 0; resample < options.resamples; resample++) {
    const drawn: LengthObservation[] = [];
    for (let k = 0; k < instructions.length; k++) drawn.push(...byInstruction.get(instructions[Math.floor(random() * instructions.length)]!)!);
    values.push(fitLengthControlled(drawn, { C: options.C, ...(options.difficulty ? { difficulty: options.difficulty } : {}) }).lcWinrate);
  }
  return values;
}

/** The q-quantile of values by linear interpolation between order statistics (numpy's default). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
}
