import { UserError } from "../../errors.js";
import { seededRandom } from "../../common/seeded-random.js";
import type { ResultRow } from "../../results/record.js";
import { quantileSorted } from "../bootstrap.js";
import { mean, proportion } from "../intervals.js";
import type { MetricSummary } from "../summary-types.js";
import type { SuiteMetric, SuiteMetricGroup } from "./types.js";
import { driftSensitivity } from "./drift-text.js";

// The Drift Sensitivity Index from a score other than greedy next-token accuracy (issue 14's alternatives):
// a drift run's task rows (parts task_in_domain / task_ood: a suite's multiple-choice items, scored by
// log-likelihood under both models) or judged rows (parts judge_in_domain / judge_ood: prompts both models
// answer and a judge scores 0–1). Each such row's score holds the fine-tuned model's S (s_target) and the
// base's (s_base) on that item. Per model (each fine-tuned checkpoint):
//   s_in_target, s_ood_target, s_in_base, s_ood_base = mean S over the part's items (Wilson when every
//                      value is 0 or 1, else t clipped to [0, 1])
//   dsi_target       = (S_in − S_ood) / S_in with the fine-tuned model's S;  dsi_base the same with the base's
//   dsi_change       = dsi_target − dsi_base
// null, with a note saying why, when S_in = 0 (the ratio is undefined) or a part has no scored item.
// Intervals of dsi_*: a seeded percentile bootstrap, paired over items: each resample draws the in-domain
// items with replacement, then the out-of-domain ones, and computes both models' DSI on the same draw, so
// dsi_change keeps the pairing (the two models answered the same items). Resamples where S_in = 0 are left
// out (reported as `undefined_resamples` when any are).

export const DSI_SEED = 20260214;
export const DSI_RESAMPLES = 2000;

interface Options {
  inDomain: string;
  ood: string;
  seed: number;
  resamples: number;
}

/** One part's items: the fine-tuned model's and the base's S, paired by index. */
interface Items {
  target: number[];
  base: number[];
}

function readOptions(name: string, defaults: { inDomain: string; ood: string }, options: Record<string, unknown>): Options {
  const known = ["in_domain_part", "ood_part", "seed", "resamples"];
  for (const key of Object.keys(options)) if (!known.includes(key)) throw new UserError(`${name}: unknown option "${key}" (${known.join(", ")})`);
  const part = (key: string, fallback: string): string => {
    const value = options[key] ?? fallback;
    if (typeof value !== "string" || value === "") throw new UserError(`${name}: ${key} must be a part's name`);
    return value;
  };
  const seed = options.seed ?? DSI_SEED;
  const resamples = options.resamples ?? DSI_RESAMPLES;
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new UserError(`${name}: seed must be an integer`);
  if (typeof resamples !== "number" || !Number.isInteger(resamples) || resamples < 100) throw new UserError(`${name}: resamples must be an integer of at least 100`);
  return { inDomain: part("in_domain_part", defaults.inDomain), ood: part("ood_part", defaults.ood), seed, resamples };
}

/** A row's pair of scores, or undefined when the row has none (a failed row, another part). */
function pairOf(row: ResultRow, scorer: string): { target: number; base: number } | undefined {
  const score = row.scores?.[scorer];
  if (!score || score.error) return undefined;
  const target = score.metrics?.s_target;
  const base = score.metrics?.s_base;
  if (typeof target !== "number" || typeof base !== "number" || !Number.isFinite(target) || !Number.isFinite(base)) return undefined;
  return { target, base };
}

const sum = (values: ArrayLike<number>) => {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
};

/** Mean S of a part with its interval: Wilson for 0/1 scores (accuracy), else t clipped to [0, 1]. */
function scoreMean(values: number[]): MetricSummary {
  if (values.length > 0 && values.every((value) => value === 0 || value === 1)) return proportion(sum(values), values.length);
  const n = values.length;
  const centre = n === 0 ? null : sum(values) / n;
  const sd = n > 1 && centre !== null ? Math.sqrt(values.reduce((total, value) => total + (value - centre) ** 2, 0) / (n - 1)) : null;
  return mean(n, centre, sd, [0, 1]);
}

type Statistic = "dsi_target" | "dsi_base" | "dsi_change";
const STATISTICS: Statistic[] = ["dsi_target", "dsi_base", "dsi_change"];

/** The three DSI statistics from the four mean scores. */
function statistics(inTarget: number, oodTarget: number, inBase: number, oodBase: number): Record<Statistic, number | null> {
  const target = driftSensitivity(inTarget, oodTarget);
  const base = driftSensitivity(inBase, oodBase);
  return { dsi_target: target, dsi_base: base, dsi_change: target === null || base === null ? null : target - base };
}

/** Why a DSI is null, in words (a part without items, or S_in = 0 for the model(s) it uses). */
function nullNote(which: Statistic, inside: Items, outside: Items, inTarget: number, inBase: number): string {
  if (inside.target.length === 0) return "no scored in-domain item";
  if (outside.target.length === 0) return "no scored out-of-domain item";
  const zero = [which !== "dsi_base" && inTarget === 0 ? "the fine-tuned model" : null, which !== "dsi_target" && inBase === 0 ? "the base" : null].filter(Boolean);
  return `S_in = 0 for ${zero.join(" and ")}: (S_in − S_ood) / S_in is undefined`;
}

/** dsi_target, dsi_base and dsi_change with their paired bootstrap intervals. */
export function dsiWithIntervals(inside: Items, outside: Items, seed: number, resamples: number): Record<Statistic, MetricSummary> {
  const n = inside.target.length + outside.target.length;
  const result = {} as Record<Statistic, MetricSummary>;
  if (inside.target.length === 0 || outside.target.length === 0) {
    for (const name of STATISTICS) result[name] = { estimate: null, stderr: null, ci95: null, n, note: nullNote(name, inside, outside, 0, 0) };
    return result;
  }
  const average = (values: number[]) => sum(values) / values.length;
  const [inTarget, oodTarget, inBase, oodBase] = [average(inside.target), average(outside.target), average(inside.base), average(outside.base)];
  const full = statistics(inTarget, oodTarget, inBase, oodBase);
  const draws: Record<Statistic, number[]> = { dsi_target: [], dsi_base: [], dsi_change: [] };
  const random = seededRandom(seed);
  // Each resample: the in-domain items drawn with replacement, then the out-of-domain items; both models' means from the same draw.
  const drawMeans = (items: Items): [number, number] => {
    const count = items.target.length;
    let target = 0;
    let base = 0;
    for (let i = 0; i < count; i++) {
      const index = Math.floor(random() * count);
      target += items.target[index]!;
      base += items.base[index]!;
    }
    return [target / count, base / count];
  };
  for (let b = 0; b < resamples; b++) {
    const [inT, inB] = drawMeans(inside);
    const [oodT, oodB] = drawMeans(outside);
    const values = statistics(inT, oodT, inB, oodB);
    for (const name of STATISTICS) if (values[name] !== null) draws[name].push(values[name]!);
  }
  for (const name of STATISTICS) {
    const estimate = full[name];
    if (estimate === null) {
      result[name] = { estimate: null, stderr: null, ci95: null, n, note: nullNote(name, inside, outside, inTarget, inBase) };
      continue;
    }
    const values = draws[name].sort((a, b) => a - b);
    if (values.length < 2) {
      result[name] = { estimate, stderr: null, ci95: null, n };
      continue;
    }
    const centre = sum(values) / values.length;
    const stderr = Math.sqrt(values.reduce((total, value) => total + (value - centre) ** 2, 0) / (values.length - 1));
    const entry: MetricSummary = { estimate, stderr, ci95: [quantileSorted(values, 0.025), quantileSorted(values, 0.975)], n, bootstrap: { seed, resamples } };
    if (values.length < resamples) entry.note = `${resamples - values.length} of ${resamples} resamples had S_in = 0 and were left out`;
    result[name] = entry;
  }
  return result;
}

/** A DSI suite metric over one pair of parts and one row score holding s_target and s_base. */
function scoreDsiMetric(name: string, scorer: string, parts: { inDomain: string; ood: string }, what: string): SuiteMetric {
  const share = { type: "bounded" as const, range: [0, 1] as [number, number] };
  return {
    declaration: {
      name,
      description: `the Drift Sensitivity Index (S_in − S_ood) / S_in with S = ${what}, for each fine-tuned checkpoint and its base, and their difference (paired bootstrap over items)`,
      metrics: [
        { name: "dsi_target", label: `DSI (${what}), fine-tuned`, kind: { type: "unbounded" }, bad: "high" },
        { name: "dsi_base", label: `DSI (${what}), base`, kind: { type: "unbounded" }, bad: "none" },
        { name: "dsi_change", label: `DSI change (${what}), fine-tuned − base`, kind: { type: "unbounded" }, bad: "high" },
        { name: "s_in_target", label: `${what}, in-domain, fine-tuned`, kind: share, bad: "low" },
        { name: "s_ood_target", label: `${what}, out-of-domain, fine-tuned`, kind: share, bad: "low" },
        { name: "s_in_base", label: `${what}, in-domain, base`, kind: share, bad: "none" },
        { name: "s_ood_base", label: `${what}, out-of-domain, base`, kind: share, bad: "none" },
      ],
    },
    create(options) {
      const settings = readOptions(name, parts, options);
      const byModel = new Map<string, { inside: Items; outside: Items }>();
      return {
        add(row: ResultRow) {
          const part = row.tags?.part;
          if (part !== settings.inDomain && part !== settings.ood) return;
          const pair = pairOf(row, scorer);
          if (!pair) return;
          let sets = byModel.get(row.model_slug);
          if (!sets) byModel.set(row.model_slug, (sets = { inside: { target: [], base: [] }, outside: { target: [], base: [] } }));
          const items = part === settings.inDomain ? sets.inside : sets.outside;
          items.target.push(pair.target);
          items.base.push(pair.base);
        },
        results(): SuiteMetricGroup[] {
          return [...byModel].map(([model, { inside, outside }]) => ({
            by: { model },
            metrics: {
              ...dsiWithIntervals(inside, outside, settings.seed, settings.resamples),
              s_in_target: scoreMean(inside.target),
              s_ood_target: scoreMean(outside.target),
              s_in_base: scoreMean(inside.base),
              s_ood_base: scoreMean(outside.base),
            },
          }));
        },
      };
    },
  };
}

/** DSI from a suite's multiple-choice accuracy (drift --task): parts task_in_domain and task_ood, row score `task`. */
export const driftTaskDsi = scoreDsiMetric("drift_task_dsi", "task", { inDomain: "task_in_domain", ood: "task_ood" }, "task accuracy");

/** DSI from a judge's 0–1 score of the answers (drift --judge-model with prompt sets): parts judge_in_domain and judge_ood, row score `judged`. */
export const driftJudgeDsi = scoreDsiMetric("drift_judge_dsi", "judged", { inDomain: "judge_in_domain", ood: "judge_ood" }, "judge score");
