import { UserError } from "../../errors.js";
import type { LanguageModel } from "../../providers/types.js";
import type { RowScore } from "../../results/record.js";
import { requireBosChoice, requireLoglikelihood } from "../../scorers/multiple-choice.js";
import { scorerNamed } from "../../scorers/registry.js";
import type { Scorer, ScorerDeclaration } from "../../scorers/types.js";
import type { PlanContext, PlanResult, RoleModel } from "./types.js";

// The task parts of a drift run (task_in_domain, task_ood; `alignbench drift --task SUITE`): each row is one
// item of a multiple-choice suite (truthfulqa-mc1, bbq…), scored by log-likelihood under the fine-tuned
// model (the row's target) and under its base with the suite's own scorer (its first log-likelihood scorer:
// multiple_choice for MC1, bbq_choice_ll for BBQ), the suite's context template and add_bos. Nothing is
// generated. The row's `task` score holds both: s_target and s_base, the item's score (1/0 for accuracy)
// under each model; drift_task_dsi turns them into the Drift Sensitivity Index of each and its change.
// Plan options (set by the drift config from the suite): task (its name), task_scorer, task_mc_template,
// task_add_bos.

export const TASK_DECLARATION: ScorerDeclaration = {
  name: "task",
  description:
    "a multiple-choice task item scored by log-likelihood under the fine-tuned model and its base (drift --task): the item's score under each (accuracy: 1 when the most likely choice is correct)",
  metrics: [
    { name: "task", label: "task score (fine-tuned)", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "s_target", label: "task score (fine-tuned)", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "s_base", label: "task score (base)", kind: { type: "bounded", range: [0, 1] }, bad: "none" },
  ],
};

export interface TaskSettings {
  task: string;
  scorer: string;
  template: string;
  addBos: "auto" | boolean;
}

/** The task settings from the plan options (the drift config writes them from the suite). */
export function taskSettings(options: Record<string, unknown>): TaskSettings {
  const task = options.task ?? "(task)";
  const scorer = options.task_scorer ?? "multiple_choice";
  const template = options.task_mc_template ?? "{prompt}";
  const addBos = options.task_add_bos ?? "auto";
  if (typeof task !== "string" || typeof scorer !== "string" || typeof template !== "string") throw new UserError("plan_options.task, task_scorer and task_mc_template must be text");
  if (addBos !== "auto" && typeof addBos !== "boolean") throw new UserError("plan_options.task_add_bos must be auto, true or false");
  return { task, scorer, template, addBos };
}

/** The suite's log-likelihood scorer, made once per settings. */
const scorers = new Map<string, Scorer>();
function taskScorer(settings: TaskSettings): Scorer {
  const key = JSON.stringify(settings);
  let made = scorers.get(key);
  if (made) return made;
  made = scorerNamed(settings.scorer, undefined, { mcTemplate: settings.template, addBos: settings.addBos });
  if (!made) throw new UserError(`--task ${settings.task}: unknown scorer "${settings.scorer}"`);
  if (made.needs !== "loglikelihood") throw new UserError(`--task ${settings.task}: scorer ${settings.scorer} does not score by log-likelihood; a drift task needs a multiple-choice suite`);
  scorers.set(key, made);
  return made;
}

/** Refuses, before the first row, a model that cannot score log-likelihoods (or apply add_bos), naming it. */
export function checkTaskModel(model: LanguageModel, settings: TaskSettings): void {
  try {
    requireBosChoice(requireLoglikelihood(model), settings.addBos);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`--task ${settings.task}: ${error.message}`);
    throw error;
  }
}

/** The item's score under one model, as the suite's scorer gives it (a number in [0, 1]). */
async function scoreUnder(model: LanguageModel, context: PlanContext, settings: TaskSettings): Promise<{ value: number; raw: string | null }> {
  checkTaskModel(model, settings);
  const scorer = taskScorer(settings);
  const score = await scorer.score({
    sample: context.sample,
    messages: context.sample.conversation,
    response: "",
    services: { target: model },
    ...(context.signal ? { signal: context.signal } : {}),
    memo: new Map(),
  });
  if (score.error !== null || typeof score.value !== "number" || !Number.isFinite(score.value)) {
    throw new UserError(`item ${context.sample.id}: ${settings.scorer} under ${model.address} gave no score${score.error ? `: ${score.error}` : ""}`);
  }
  return { value: score.value, raw: score.raw };
}

/** The base's score of each item, shared by every checkpoint of the session (the base is the same model). */
const baseScores = new WeakMap<RoleModel, Map<string, Promise<{ value: number; raw: string | null }>>>();

function baseScore(base: RoleModel, context: PlanContext, settings: TaskSettings): Promise<{ value: number; raw: string | null }> {
  let scores = baseScores.get(base);
  if (!scores) baseScores.set(base, (scores = new Map()));
  const key = JSON.stringify([context.sample.id, settings]);
  let pending = scores.get(key);
  if (!pending) {
    pending = scoreUnder(base.scoring, context, settings);
    scores.set(key, pending);
    // A failure is not shared: the next checkpoint (or a retry) scores it again.
    pending.catch(() => scores.delete(key));
  }
  return pending;
}

/** One task item: its score under the fine-tuned model and under the base, as the row's `task` score. */
export async function runTaskDrift(context: PlanContext): Promise<PlanResult> {
  const settings = taskSettings(context.options);
  const target = context.roles.target?.scoring;
  const base = context.roles.base;
  if (!target) throw new UserError("a drift run needs the fine-tuned model (the model under test)");
  if (!base) throw new UserError("a drift run needs the base model: give it the role base (--base M)");
  const [mine, theirs] = await Promise.all([scoreUnder(target, context, settings), baseScore(base, context, settings)]);
  const task: RowScore = {
    value: mine.value,
    label: null,
    raw: mine.raw,
    error: null,
    metrics: { s_target: mine.value, s_base: theirs.value },
    data: { task: settings.task, scorer: settings.scorer, base_raw: theirs.raw },
  };
  return { messages: context.sample.conversation, response: null, finishReason: null, scores: { task } };
}
