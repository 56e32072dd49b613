import { UserError } from "../../errors.js";
import type { Setting } from "./objective.js";

// The settings `weights calibrate` tries: every λ on the simplex grid with step 1/m (λ_i = k_i / m, Σ k_i = m;
// only the ratios of the λ matter, since the routing weights are renormalised) times every temperature given.
// For 3 experts and step 0.1 that is 66 λ vectors; with 6 temperatures, 396 settings.

export const DEFAULT_LAMBDA_STEP = 0.1;
export const DEFAULT_TEMPERATURES = [0.05, 0.1, 0.25, 0.5, 1, 2];
/** Beyond this many settings the grid is refused (a finer step than the data can tell apart). */
const MAX_SETTINGS = 200_000;

/** All compositions of m into `experts` parts, as λ = k / m, in lexicographic order of k (largest first). */
export function lambdaGrid(experts: number, step: number): number[][] {
  const parts = Math.round(1 / step);
  if (!(step > 0 && step <= 1) || Math.abs(parts * step - 1) > 1e-9) throw new UserError(`--lambda-step ${step}: must divide 1 evenly (0.5, 0.25, 0.2, 0.1, 0.05…)`);
  const out: number[][] = [];
  const current: number[] = [];
  const walk = (left: number, slots: number): void => {
    if (slots === 1) {
      out.push([...current, left].map((k) => k / parts));
      return;
    }
    for (let k = left; k >= 0; k--) {
      current.push(k);
      walk(left - k, slots - 1);
      current.pop();
    }
  };
  walk(parts, experts);
  return out;
}

export function settingsGrid(experts: number, step: number, temperatures: readonly number[]): Setting[] {
  if (temperatures.length === 0 || temperatures.some((value) => !(value > 0) || !Number.isFinite(value))) throw new UserError("--temperatures: every temperature must be a number > 0");
  const lambdas = lambdaGrid(experts, step);
  if (lambdas.length * temperatures.length > MAX_SETTINGS) {
    throw new UserError(`the grid has ${lambdas.length * temperatures.length} settings (over ${MAX_SETTINGS}): use a coarser --lambda-step or fewer --temperatures`);
  }
  return temperatures.flatMap((temperature) => lambdas.map((lambda) => ({ lambdas: lambda, temperature })));
}

/** A setting's identity in the state file: λ to 9 places and T. */
export function settingKey(setting: Setting): string {
  return JSON.stringify([setting.lambdas.map((value) => Number(value.toFixed(9))), setting.temperature]);
}

/**
 * Orders two settings of one score: the one that departs least from the uncalibrated router (T = 1, equal λ)
 * first — smaller |ln T|, then smaller Σ|λ_i − 1/K| — so a tie is broken the same way on every machine.
 */
export function departure(setting: Setting): [number, number] {
  const even = 1 / setting.lambdas.length;
  return [Math.abs(Math.log(setting.temperature)), setting.lambdas.reduce((sum, value) => sum + Math.abs(value - even), 0)];
}
