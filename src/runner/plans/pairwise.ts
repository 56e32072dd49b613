import { UserError } from "../../errors.js";
import { baselineOutputFor, cachedBaselineOutputs } from "../../datasets/baseline-outputs.js";
import { composeMessages } from "../../personas/compose.js";
import type { Message } from "../../providers/messages.js";
import type { GenerateResult } from "../../providers/types.js";
import type { Plan, PlanContext, RoleModel } from "./types.js";

/**
 * The model under test and a baseline answer the same item, for a pairwise judge (winrate_judge). The
 * baseline is, in this order: the outputs stored in `plan_options.baseline_outputs` (a file of {id, output},
 * AlpacaEval's reference outputs, or an earlier run's folder; `baseline_model` picks one model of a run), else
 * the `baseline` role's model (--model-role baseline=M), else the item's own stored answer
 * (`metadata.baseline_output`, e.g. the `alpaca` record format's `output`). A stored answer from a file is
 * recorded in the transcript as the baseline's, with the file as its source.
 *
 * The baseline is sent the item's conversation without the run's persona: a persona is a condition of the
 * model under test, and the baseline is the fixed reference it is compared with. For the same reason the
 * baseline model answers each item (and epoch) once per session, and every target and persona is compared
 * with that one answer: the first row to need it makes the call, the others record it as shared.
 */
export const pairwisePlan: Plan = {
  name: "pairwise",
  description: "the model under test and a baseline (the baseline role, stored outputs from plan_options.baseline_outputs, or the item's baseline_output) answer the item",
  roles: [],
  reusable: true,
  async run(context) {
    const { sample, persona, call, options, roles } = context;
    const stored = storedOption(options);
    if (stored && roles.baseline) throw new UserError("the pairwise plan was given two baselines: plan_options.baseline_outputs and the baseline role; keep one");
    const messages = composeMessages(sample, persona);
    const answer = await call("target", { messages });
    const baselineMessages = persona === undefined ? messages : composeMessages(sample, undefined);
    if (stored) {
      const outputs = await cachedBaselineOutputs(stored.path, stored.model === undefined ? {} : { model: stored.model });
      context.recordStored("baseline", `stored:${outputs.file}`, baselineMessages, baselineOutputFor(outputs, sample.id, instructionOf(context)));
    } else if (roles.baseline) {
      await sharedBaselineCall(context, roles.baseline, baselineMessages);
    } else if (typeof sample.metadata?.baseline_output !== "string") {
      throw new UserError(
        `item ${sample.id} has no baseline: pass --model-role baseline=M, set plan_options.baseline_outputs (a file of {id, output} or a run folder), or use data that carries one (record_format: alpaca with an output column)`,
      );
    }
    return { messages, response: answer.text, finishReason: answer.finishReason };
  },
};

/** The baseline model's answers in this run, by item and epoch (the role's model object is the run's own). */
const sharedAnswers = new WeakMap<RoleModel, Map<string, Promise<GenerateResult>>>();

async function sharedBaselineCall(context: PlanContext, model: RoleModel, messages: Message[]): Promise<void> {
  let answers = sharedAnswers.get(model);
  if (!answers) sharedAnswers.set(model, (answers = new Map()));
  const key = JSON.stringify([context.sample.id, context.dimensions.epoch ?? 1]);
  const pending = answers.get(key);
  if (pending) {
    const answer = await pending;
    context.recordStored("baseline", `shared:${model.address}`, messages, answer.text);
    return;
  }
  const call = context.call("baseline", { messages });
  answers.set(key, call);
  // A failed call is not shared: the next row (or a later attempt) asks again.
  call.catch(() => answers.delete(key));
  await call;
}

/** The instruction AlpacaEval's reference files are matched by: the record's own, else the last user turn. */
function instructionOf({ sample }: PlanContext): string {
  const instruction = sample.metadata?.instruction;
  return typeof instruction === "string" ? instruction : (sample.conversation.at(-1)?.content ?? "");
}

function storedOption(options: Record<string, unknown>): { path: string; model?: string } | undefined {
  const path = options.baseline_outputs;
  const model = options.baseline_model;
  if (path === undefined || path === null) {
    if (model !== undefined) throw new UserError("plan_options.baseline_model picks a model of plan_options.baseline_outputs, which is not set");
    return undefined;
  }
  if (typeof path !== "string" || path.trim() === "") throw new UserError("plan_options.baseline_outputs must be a path (a file of {id, output} or a run folder)");
  if (model !== undefined && typeof model !== "string") throw new UserError("plan_options.baseline_model must be a model address, as the run folder's model_slug column names it");
  return model === undefined ? { path } : { path, model };
}
