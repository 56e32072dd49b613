import { UserError } from "../../errors.js";
import { composeMessages } from "../../personas/compose.js";
import type { Message } from "../../providers/messages.js";
import type { GenerateResult, ModelCall } from "../../providers/types.js";
import type { RowScore } from "../../results/record.js";
import { classifierPrompt } from "../../scorers/classifier-judge.js";
import { JudgeInvalidError, LlmJudge } from "../../scorers/judge/llm-judge.js";
import { SchemaValidator } from "../../scorers/judge/schema-validator.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import type { PlanContext, PlanResult, RoleModel } from "./types.js";

// The judged parts of a drift run (judge_in_domain, judge_ood; `alignbench drift --judge-model J
// --in-domain-prompts F --ood-prompts F`): the fine-tuned model (the row's target) and its base each answer
// the prompt, and the judge grades each answer from 0 to 1 with suites/prompts/drift/quality.txt, its answer
// a JSON object validated against QUALITY_SCHEMA (asked again on a bad answer, as the run's verdict judge
// is; never guessed). The row's `judged` score holds both grades, s_target and s_base; drift_judge_dsi turns
// them into the Drift Sensitivity Index of each model and its change. The base answers each prompt once per
// session, whatever the number of checkpoints. Plan option: judge_structured_output (json_schema, the
// default; json_object; none), judge_repair_attempts (default 2).

export const JUDGED_DECLARATION: ScorerDeclaration = {
  name: "judged",
  description: "the judge's 0–1 grade of the fine-tuned model's and the base's answers to one prompt (drift --judge-model with prompt sets)",
  metrics: [
    { name: "judged", label: "judge score (fine-tuned)", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "s_target", label: "judge score (fine-tuned)", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "s_base", label: "judge score (base)", kind: { type: "bounded", range: [0, 1] }, bad: "none" },
  ],
};

/** What the judge must answer: the item's id and a score in [0, 1]. */
export const QUALITY_SCHEMA: Record<string, unknown> = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "alignbench drift quality grade",
  type: "object",
  required: ["id", "score"],
  properties: { id: { type: "string" }, score: { type: "number", minimum: 0, maximum: 1 }, rationale: { type: "string" } },
};

const validator = new SchemaValidator();
let template: string | undefined;

interface Grade {
  score: number;
  raw: string;
}

function judgeSettings(options: Record<string, unknown>): { structuredOutput: "json_schema" | "json_object" | "none"; repairAttempts: number } {
  const structuredOutput = options.judge_structured_output ?? "json_schema";
  const repairAttempts = options.judge_repair_attempts ?? 2;
  if (structuredOutput !== "json_schema" && structuredOutput !== "json_object" && structuredOutput !== "none")
    throw new UserError("plan_options.judge_structured_output must be json_schema, json_object or none");
  if (typeof repairAttempts !== "number" || !Number.isInteger(repairAttempts) || repairAttempts < 0) throw new UserError("plan_options.judge_repair_attempts must be a whole number");
  return { structuredOutput, repairAttempts };
}

/** The judge's grade of one answer (through context.call, so its prompt and answer land in the transcript). */
async function grade(context: PlanContext, messages: Message[], answer: string): Promise<Grade> {
  const judgeRole = context.roles.judge!;
  const call: ModelCall = (request) =>
    context.call("judge", { messages: request.messages, ...(request.options ? { options: request.options } : {}), ...(request.responseFormat ? { responseFormat: request.responseFormat } : {}) });
  template ??= classifierPrompt("drift-quality");
  const judge = new LlmJudge({
    modelAddress: judgeRole.address,
    call,
    promptTemplate: template,
    schema: QUALITY_SCHEMA,
    ...judgeSettings(context.options),
    options: judgeRole.options,
    validator,
  });
  // The grade is the quality prompt's and schema's: an item's own judge_prompt / judge_schema (for the verdict judge) do not apply.
  const { judgePrompt: _prompt, judgeSchema: _schema, ...sample } = context.sample;
  const verdict = await judge.judge(sample, messages, answer, context.signal);
  return { score: verdict.json.score as number, raw: verdict.raw };
}

interface BaseOutcome {
  answer: GenerateResult;
  grade: Grade;
  judgeMessages?: Message[];
}

/** By the base role's model: its answer and grade per prompt, epoch and judge, shared by every checkpoint. */
const sharedOutcomes = new WeakMap<RoleModel, Map<string, Promise<BaseOutcome>>>();

function baseOutcome(context: PlanContext, messages: Message[]): Promise<BaseOutcome> {
  const base = context.roles.base!;
  let outcomes = sharedOutcomes.get(base);
  if (!outcomes) sharedOutcomes.set(base, (outcomes = new Map()));
  const key = JSON.stringify([context.dimensions.epoch ?? 1, context.roles.judge!.address, context.sample.id, messages]);
  const pending = outcomes.get(key);
  if (pending) {
    return pending.then((shared) => {
      // Recorded as this row's, from the row that made the calls, so the transcript shows both sides.
      context.recordStored("base", `shared:${base.address}`, messages, shared.answer.text);
      if (shared.judgeMessages) context.recordStored("judge", `shared:${context.roles.judge!.address}`, shared.judgeMessages, shared.grade.raw);
      return shared;
    });
  }
  const outcome = (async (): Promise<BaseOutcome> => {
    const answer = await context.call("base", { messages });
    const before = context.transcript.length;
    const graded = await grade(context, messages, answer.text);
    const judged = context.transcript.slice(before).find((entry) => entry.role === "judge");
    return judged ? { answer, grade: graded, judgeMessages: judged.messages } : { answer, grade: graded };
  })();
  outcomes.set(key, outcome);
  // A failed call or grade is not shared: the next row (or a retry) asks again.
  outcome.catch(() => outcomes.delete(key));
  return outcome;
}

/** One prompt: both models answer, the judge grades both answers; the row's `judged` score holds both grades. */
export async function runJudgedDrift(context: PlanContext): Promise<PlanResult> {
  if (!context.roles.judge) throw new UserError("the judge-score DSI needs a judge model: pass --judge-model M");
  if (!context.roles.base) throw new UserError("a drift run needs the base model: give it the role base (--base M)");
  const messages = composeMessages(context.sample, context.persona);
  const answer = await context.call("target", { messages });
  let judged: RowScore;
  try {
    const base = await baseOutcome(context, messages);
    const mine = await grade(context, messages, answer.text);
    judged = { value: mine.score, label: null, raw: mine.raw, error: null, metrics: { s_target: mine.score, s_base: base.grade.score }, data: { base_raw: base.grade.raw } };
  } catch (error) {
    // A judge that never gave a valid grade fails this score, not the row: both answers are kept.
    if (!(error instanceof JudgeInvalidError)) throw error;
    judged = { value: null, label: null, raw: error.raw, error: error.message, metrics: { s_target: null, s_base: null } };
  }
  return { messages, response: answer.text, finishReason: answer.finishReason, scores: { judged } };
}
