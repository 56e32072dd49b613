import { crossValidateC } from "./logistic-cv.js";
import { fitLogisticL1 } from "./logistic-l1.js";
import { FOLDS, type LengthObservation } from "./length-controlled.js";

// The instruction-difficulty term γ_x of the length-controlled GLM, fitted from the run's own models.
// AlpacaEval uses a fixed γ per instruction, fitted once (notebooks/instruction_difficulty.ipynb) by a joint
// L1 logistic regression over the leaderboard's models: a bias and a length slope per model and one
// coefficient per instruction (dummy-coded: the first instruction is the reference, 0), C cross-validated
// over folds of rows. This is that joint fit over the models of this run, so γ rests on a few models rather
// than dozens, and a model's LC win rate then depends on which other models the run holds.

/** γ by instruction (the sorted-first instruction 0), from every model's rows. */
export function jointDifficulty(byModel: ReadonlyMap<string, readonly LengthObservation[]>): Map<string, number> {
  const models = [...byModel.keys()].sort();
  const rows = models.flatMap((model) => byModel.get(model)!.map((row) => ({ model, row })));
  const instructions = [...new Set(rows.map(({ row }) => row.instruction))].sort();
  const n = rows.length;
  const columns: Array<{ rows: Int32Array; values: Float64Array }> = [];
  let start = 0;
  for (const model of models) {
    const own = byModel.get(model)!;
    const deltas = own.map((row) => row.targetLength - row.baselineLength);
    const average = deltas.reduce((sum, value) => sum + value, 0) / own.length;
    const variance = own.length > 1 ? deltas.reduce((sum, value) => sum + (value - average) ** 2, 0) / (own.length - 1) : 0;
    const sd = Math.sqrt(variance);
    const at = Int32Array.from(own, (_, k) => start + k);
    columns.push({ rows: at, values: new Float64Array(own.length).fill(1) });
    columns.push({ rows: at, values: Float64Array.from(deltas, (delta) => (sd > 0 ? Math.tanh(delta / sd) : 0)) });
    start += own.length;
  }
  const rowsOf = new Map<string, number[]>();
  rows.forEach(({ row }, i) => {
    const list = rowsOf.get(row.instruction);
    if (list) list.push(i);
    else rowsOf.set(row.instruction, [i]);
  });
  for (const instruction of instructions.slice(1)) {
    const at = rowsOf.get(instruction)!;
    columns.push({ rows: Int32Array.from(at), values: new Float64Array(at.length).fill(1) });
  }
  const targets = Float64Array.from(rows, ({ row }) => row.preference);
  // Folds of rows, as the notebook's GroupKFold over rows: rows ordered by (instruction, model), dealt round-robin.
  const order = rows.map((_, i) => i).sort((a, b) => compare(rows[a]!.row.instruction, rows[b]!.row.instruction) || compare(rows[a]!.model, rows[b]!.model));
  const fold = new Int32Array(n);
  order.forEach((i, k) => {
    fold[i] = k % FOLDS;
  });
  const C = n >= 2 * FOLDS ? crossValidateC(columns, targets, fold, FOLDS) : 100;
  const fit = fitLogisticL1({ columns, targets, C });
  const gamma = new Map<string, number>([[instructions[0]!, 0]]);
  instructions.slice(1).forEach((instruction, k) => gamma.set(instruction, fit.coefficients[2 * models.length + k]!));
  return gamma;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
