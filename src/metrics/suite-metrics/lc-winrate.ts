import { UserError } from "../../errors.js";
import type { ResultRow } from "../../results/record.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import { meanOf } from "../intervals.js";
import { bootstrapLengthControlled, fitLengthControlled, type LengthObservation, quantile } from "../length-controlled.js";
import { jointDifficulty } from "../instruction-difficulty.js";
import type { MetricSummary } from "../summary-types.js";
import type { SuiteMetric, SuiteMetricGroup } from "./types.js";

// AlpacaEval 2's win rate and length-controlled win rate over a run, per model (see length-controlled.ts
// for the GLM). Each row of a pairwise judge (`winrate_judge` by default) gives the target's preference
// over the baseline in [0, 1] (ties ½) and both outputs' lengths in characters.

const DECLARATION: ScorerDeclaration = {
  name: "lc_winrate",
  description:
    "AlpacaEval 2's win rate against the baseline (ties count ½) and its length-controlled win rate: a logistic GLM of the preference on a model term and tanh of the standardised length difference, predicted at zero length difference (Dubois et al. 2024)",
  metrics: [
    { name: "lc_winrate", label: "length-controlled win rate", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "winrate", label: "win rate", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
  ],
};

const OPTIONS = ["scorer", "seed", "resamples", "instruction_difficulty"];

/** The fitted GLM, kept beside the LC win rate's estimate in the summary. */
export interface LcGlmDetails {
  /** θ (the model term), φ (the length term, on tanh(Δlen / length_sd), Δlen = target − baseline), ψ (difficulty). */
  coefficients: { model: number; length: number; difficulty?: number };
  C: number;
  length_sd: number | null;
  /** "none": no difficulty term; "joint": γ fitted jointly over the run's models (instruction-difficulty.ts; asked for with one model, it is "none"). */
  instruction_difficulty: "none" | "joint";
  converged: boolean;
  /** The bootstrap behind the interval: instructions resampled with replacement, the GLM refitted. */
  bootstrap: { seed: number; resamples: number };
}

interface Options {
  scorer: string;
  seed: number;
  resamples: number;
  instructionDifficulty: "none" | "joint";
}

function readOptions(options: Record<string, unknown>): Options {
  for (const key of Object.keys(options)) if (!OPTIONS.includes(key)) throw new UserError(`suite metric lc_winrate: unknown option "${key}"; options: ${OPTIONS.join(", ")}`);
  const { scorer = "winrate_judge", seed = 0, resamples = 200, instruction_difficulty = "none" } = options;
  if (typeof scorer !== "string" || scorer === "") throw new UserError("suite metric lc_winrate: option scorer must be a scorer name");
  if (!Number.isInteger(seed)) throw new UserError("suite metric lc_winrate: option seed must be an integer");
  if (!Number.isInteger(resamples) || (resamples as number) < 0) throw new UserError("suite metric lc_winrate: option resamples must be a whole number (0: no interval)");
  if (instruction_difficulty !== "none" && instruction_difficulty !== "joint") throw new UserError('suite metric lc_winrate: option instruction_difficulty must be "none" or "joint"');
  return { scorer, seed: seed as number, resamples: resamples as number, instructionDifficulty: instruction_difficulty };
}

/** The row's observation, or undefined when its judge failed or gave no lengths. */
function observe(row: ResultRow, scorer: string): LengthObservation | undefined {
  const score = row.scores?.[scorer];
  if (!score || typeof score.value !== "number" || !Number.isFinite(score.value)) return undefined;
  const targetLength = score.data?.target_length;
  const baselineLength = score.data?.baseline_length;
  if (typeof targetLength !== "number" || typeof baselineLength !== "number") return undefined;
  return { instruction: row.test_id, preference: Math.min(1, Math.max(0, score.value)), targetLength, baselineLength };
}

export const lcWinrate: SuiteMetric = {
  declaration: DECLARATION,
  create(settings) {
    const options = readOptions(settings);
    const byModel = new Map<string, LengthObservation[]>();
    return {
      add(row) {
        const observation = observe(row, options.scorer);
        if (!observation) return;
        const list = byModel.get(row.model_slug);
        if (list) list.push(observation);
        else byModel.set(row.model_slug, [observation]);
      },
      results(): SuiteMetricGroup[] {
        const joint = options.instructionDifficulty === "joint" && byModel.size >= 2;
        const difficulty = joint ? jointDifficulty(byModel) : undefined;
        return [...byModel].map(([model, rows]) => ({ by: { model }, metrics: summarise(rows, options, difficulty) }));
      },
    };
  },
};

function summarise(rows: LengthObservation[], options: Options, difficulty: ReadonlyMap<string, number> | undefined): Record<string, MetricSummary> {
  const plain = meanOf(rows.map((row) => row.preference));
  const winrate: MetricSummary = { ...plain, ci95: plain.ci95 && [Math.max(0, plain.ci95[0]), Math.min(1, plain.ci95[1])] };
  const fit = fitLengthControlled(rows, difficulty ? { difficulty } : {});
  const resampled =
    options.resamples > 0 && rows.length > 1 ? bootstrapLengthControlled(rows, { C: fit.C, seed: options.seed, resamples: options.resamples, ...(difficulty ? { difficulty } : {}) }) : [];
  const average = resampled.reduce((sum, value) => sum + value, 0) / Math.max(resampled.length, 1);
  const stderr = resampled.length > 1 ? Math.sqrt(resampled.reduce((sum, value) => sum + (value - average) ** 2, 0) / (resampled.length - 1)) : null;
  const glm: LcGlmDetails = {
    coefficients: fit.coefficients,
    C: fit.C,
    length_sd: fit.lengthSd,
    instruction_difficulty: difficulty ? "joint" : "none",
    converged: fit.converged,
    bootstrap: { seed: options.seed, resamples: resampled.length },
  };
  const lc: MetricSummary & { glm: LcGlmDetails } = {
    estimate: fit.lcWinrate,
    stderr,
    ci95: resampled.length > 1 ? [quantile(resampled, 0.025), quantile(resampled, 0.975)] : null,
    n: rows.length,
    glm,
  };
  return { lc_winrate: lc, winrate };
}
