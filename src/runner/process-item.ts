import { ProviderError, errorTypeOf } from "../providers/errors.js";
import { RESULT_SCHEMA_VERSION, type ResultRow, type RowScore, type TranscriptCall } from "../results/record.js";
import { JudgeInvalidError } from "../scorers/judge/llm-judge.js";
import type { Sample } from "../datasets/sample.js";
import { scorerApplies, type Scorer, type ScorerContext, type ScorerServices } from "../scorers/types.js";
import type { GenerateResult } from "../providers/types.js";
import type { Plan, PlanCall, PlanCompletion, PlanContext, RoleModel } from "./plans/types.js";
import type { WorkItem } from "./work-items.js";
import { recordedForScorers, recordingScorerCalls } from "./scorer-calls.js";
import { requestHash, type TurnJournal } from "./turn-journal.js";

export interface ItemSettings {
  plan: Plan;
  /** The run's models by role besides each item's target (judge, attacker, baseline…). */
  roles: Record<string, RoleModel>;
  /** The run's plan_options. */
  planOptions?: Record<string, unknown>;
  scorers: Scorer[];
  services: ScorerServices;
  signal?: AbortSignal | undefined;
  /** Where plans that name their calls journal them, to resume mid-item (plans with `resumesTurns`). */
  journal?: TurnJournal | undefined;
}

/**
 * Runs one work item: its plan (the model calls, recorded in the transcript), then the run's scorers.
 * Always returns the row to record, except when the item was cancelled mid-flight: then it returns
 * undefined and the key stays not done.
 */
export async function processItem(runId: string, item: WorkItem, settings: ItemSettings): Promise<ResultRow | undefined> {
  const { sample } = item;
  const startedAt = new Date().toISOString();
  const row: ResultRow = {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: runId,
    key: item.key,
    dimensions: item.dimensions,
    test_id: sample.id,
    category: sample.category,
    subcategory: sample.subcategory,
    persona_slug: String(item.dimensions.persona),
    model_slug: item.target.address,
    epoch: Number(item.dimensions.epoch),
    attempt: item.attempt,
    source: "run",
    started_at: startedAt,
    completed_at: startedAt,
    messages: [],
    raw_candidate: null,
    finish_reason: null,
    generation: item.target.options,
    usage: null,
    latency_ms: null,
    transcript: [],
    expected_safe_behavior: sample.expectedSafeBehavior ?? null,
    attack_notes: sample.attackNotes ?? null,
    item_judge_prompt: sample.judgePrompt ?? null,
    item_judge_schema: sample.judgeSchema ?? null,
    item_metadata: null,
    tags: null,
    scores: null,
    status: "ok",
    error: null,
    error_type: null,
  };
  if (sample.metadata) Object.assign(row, itemMetadataFields(sample));
  const { roles, services } = perTarget(settings, item.target);
  const previous = item.previous;
  let planScores: Record<string, RowScore> | undefined;
  if (settings.plan.reusable && previous && previous.raw_candidate !== null && previous.transcript.every((call) => !call.error)) {
    // The plan's calls all succeeded in an earlier attempt; only its scoring failed: score them again.
    Object.assign(row, {
      messages: previous.messages,
      raw_candidate: previous.raw_candidate,
      finish_reason: previous.finish_reason,
      transcript: previous.transcript,
      usage: previous.usage,
      latency_ms: previous.latency_ms,
      generation: previous.generation,
    });
  } else {
    const context = planContext(row, item, roles, settings.planOptions ?? {}, settings.signal, settings.journal);
    try {
      const result = await settings.plan.run(context);
      row.messages = result.messages;
      row.raw_candidate = result.response;
      row.finish_reason = result.finishReason;
      planScores = result.scores;
      summariseTargetCalls(row);
    } catch (error) {
      if (errorTypeOf(error) === "cancelled") return undefined;
      summariseTargetCalls(row);
      return finishWithError(row, error, "");
    }
  }
  if (planScores) row.scores = { ...planScores };
  if (settings.scorers.length > 0) {
    const scored = await scoreRow(row, sample, settings.scorers, services, settings.signal);
    if (scored === "cancelled") return undefined;
  }
  row.completed_at = new Date().toISOString();
  return row;
}

/** Each target's roles and scorer services, made once per run rather than once per item. */
const perTargetCache = new WeakMap<ItemSettings, Map<RoleModel, { roles: Record<string, RoleModel>; services: ScorerServices }>>();

function perTarget(settings: ItemSettings, target: RoleModel): { roles: Record<string, RoleModel>; services: ScorerServices } {
  let byTarget = perTargetCache.get(settings);
  if (!byTarget) perTargetCache.set(settings, (byTarget = new Map()));
  let entry = byTarget.get(target);
  if (!entry) {
    const roles = { ...settings.roles, target };
    // A scorer's calls to a role are recorded on its score (see scorer-calls.ts).
    const calls = Object.fromEntries(Object.entries(roles).map(([name, model]) => [name, recordedForScorers(model.call, name, model.address)]));
    byTarget.set(target, (entry = { roles, services: { ...settings.services, target: target.scoring, roles: calls } }));
  }
  return entry;
}

/** The context a plan runs in: every call goes through `call`, which records it in the row's transcript. */
function planContext(
  row: ResultRow,
  item: WorkItem,
  roles: Record<string, RoleModel>,
  options: Record<string, unknown>,
  signal: AbortSignal | undefined,
  journal: TurnJournal | undefined,
): PlanContext {
  return {
    sample: item.sample,
    dimensions: item.dimensions,
    persona: item.persona,
    roles,
    options,
    ...(signal ? { signal } : {}),
    transcript: row.transcript,
    call(role: string, request: PlanCall): Promise<GenerateResult> {
      const model = roleModel(roles, role);
      const call: Parameters<RoleModel["call"]>[0] = { messages: request.messages, options: request.options ?? model.options };
      if (request.responseFormat) call.responseFormat = request.responseFormat;
      if (signal) call.signal = signal;
      if (!journal || request.step === undefined) return recorded(row, role, model, request.messages, () => model.call(call));
      return journaled(row, journal, item.key, request.step, role, model, call);
    },
    recordStored(role: string, source: string, messages: TranscriptCall["messages"], response: string): void {
      row.transcript.push({ role, model: source, messages, response, usage: null, latency_ms: null, finish_reason: "stored" });
    },
    complete(role: string, request: PlanCompletion): Promise<GenerateResult> {
      const model = roleModel(roles, role);
      if (!model.complete) throw new Error(`the plan asked ${model.address} for a plain completion, which it cannot do`);
      const call: Parameters<NonNullable<RoleModel["complete"]>>[0] = { prompt: request.prompt, options: request.options ?? model.options };
      if (signal) call.signal = signal;
      return recorded(row, role, model, [{ role: "user", content: request.prompt }], () => model.complete!(call));
    },
  };
}

function roleModel(roles: Record<string, RoleModel>, role: string): RoleModel {
  const model = roles[role];
  if (!model) throw new Error(`the plan called role "${role}", which the run does not have`);
  return model;
}

/** Makes one call and records it in the row's transcript (a failed call too, with its error). */
async function recorded(row: ResultRow, role: string, model: RoleModel, messages: TranscriptCall["messages"], call: () => Promise<GenerateResult>): Promise<GenerateResult> {
  const entry: TranscriptCall = { role, model: model.address, messages, response: null, usage: null, latency_ms: null, finish_reason: null };
  try {
    const response = await call();
    entry.response = response.text;
    entry.usage = response.usage;
    entry.latency_ms = Math.round(response.latencyMs * 10) / 10;
    entry.finish_reason = response.finishReason;
    if (response.details) entry.details = response.details;
    row.transcript.push(entry);
    return response;
  } catch (error) {
    if (errorTypeOf(error) !== "cancelled") row.transcript.push({ ...entry, error: errorMessage(error) });
    throw error;
  }
}

/**
 * A named call of a plan that resumes mid-item: replayed from the journal when an earlier session finished
 * it (the same transcript entry, no model call), else made, recorded and journaled.
 */
async function journaled(row: ResultRow, journal: TurnJournal, key: string, step: string, role: string, model: RoleModel, call: Parameters<RoleModel["call"]>[0]): Promise<GenerateResult> {
  const hash = requestHash(role, { model: model.address, messages: call.messages, options: call.options, responseFormat: call.responseFormat ?? null });
  const done = journal.lookup(key, step, hash);
  if (done && done.response !== null) {
    row.transcript.push(done);
    return { text: done.response, usage: done.usage ?? { input_tokens: 0, output_tokens: 0 }, latencyMs: done.latency_ms ?? 0, finishReason: done.finish_reason ?? "stop" };
  }
  const result = await recorded(row, role, model, call.messages, () => model.call(call));
  journal.record(key, step, hash, row.transcript[row.transcript.length - 1]!);
  return result;
}

/** The row's usage and latency: the target's calls summed (one call for the generate plan, as in 0.1). */
function summariseTargetCalls(row: ResultRow): void {
  const only = row.transcript.length === 1 ? row.transcript[0]! : undefined;
  if (only && only.role === "target" && !only.error) {
    // One call (the generate plan): its usage and latency are the row's, shared rather than copied.
    row.usage = only.usage;
    row.latency_ms = only.latency_ms;
    return;
  }
  const calls = row.transcript.filter((call) => call.role === "target" && !call.error);
  if (calls.length === 0) return;
  row.usage = { input_tokens: 0, output_tokens: 0 };
  let latency = 0;
  for (const call of calls) {
    row.usage.input_tokens += call.usage?.input_tokens ?? 0;
    row.usage.output_tokens += call.usage?.output_tokens ?? 0;
    latency += call.latency_ms ?? 0;
  }
  row.latency_ms = Math.round(latency * 10) / 10;
}

/** The sample's metadata as stored on its rows: the group_by tags apart, the rest for scorers. */
export function itemMetadataFields(sample: Sample): { item_metadata: Record<string, unknown> | null; tags: Record<string, string> | null } {
  if (!sample.metadata) return { item_metadata: null, tags: null };
  const { tags, ...rest } = sample.metadata;
  return { item_metadata: Object.keys(rest).length > 0 ? rest : null, tags: (tags as Record<string, string> | undefined) ?? null };
}

/** The parts of the original sample a scorer reads, rebuilt from a stored row (for rescoring without the dataset). */
export function sampleOfRow(row: ResultRow): Sample {
  const sample: Sample = { id: row.test_id, category: row.category, subcategory: row.subcategory, conversation: row.messages };
  if (row.expected_safe_behavior !== null) sample.expectedSafeBehavior = row.expected_safe_behavior;
  if (row.attack_notes !== null) sample.attackNotes = row.attack_notes;
  if (row.item_judge_prompt !== null) sample.judgePrompt = row.item_judge_prompt;
  if (row.item_judge_schema !== null) sample.judgeSchema = row.item_judge_schema;
  if (row.item_metadata || row.tags) sample.metadata = { ...(row.item_metadata ?? {}), ...(row.tags ? { tags: row.tags } : {}) };
  return sample;
}

/**
 * Runs scorers on a row into `row.scores` (kept scores of other scorers stay); a scorer that fails gives
 * its own error, and the row is marked failed. `rename` stores each score under another name (a named
 * scoring of a rejudge: `strict/verdict`).
 */
export async function scoreRow(
  row: ResultRow,
  sample: Sample,
  scorers: Scorer[],
  services: ScorerServices,
  signal?: AbortSignal,
  rename: (name: string) => string = (name) => name,
): Promise<"ok" | "cancelled"> {
  row.scores = { ...(row.scores ?? {}) };
  const memo = new Map<string, Promise<unknown>>();
  for (const entry of scorers) {
    // A scorer scoped to some rows (scorer_where) leaves the others unscored: no score, no call.
    if (!scorerApplies(entry, sample)) continue;
    const name = rename(entry.name);
    // The model calls the scorer makes, as sent and as answered (the judge's prompt, repairs).
    const calls: TranscriptCall[] = [];
    try {
      const context: ScorerContext = { sample, messages: row.messages, response: row.raw_candidate ?? "", transcript: row.transcript, services, memo };
      if (signal) context.signal = signal;
      const score = await recordingScorerCalls(calls, () => entry.score(context));
      if (entry.model && score.model === undefined) score.model = entry.model;
      if (calls.length > 0) score.transcript = calls;
      row.scores[name] = score;
    } catch (error) {
      if (errorTypeOf(error) === "cancelled") return "cancelled";
      const failed: RowScore = { value: null, label: null, raw: error instanceof JudgeInvalidError ? error.raw : null, error: (error as Error).message ?? String(error) };
      if (entry.model) failed.model = entry.model;
      if (error instanceof JudgeInvalidError) failed.calls = error.calls;
      // Repeat or panel judgings that all failed (scorers/judge/judgings.ts) stay on the failed score.
      Object.assign(failed, (error as { judged?: Pick<RowScore, "repeats" | "panel"> }).judged);
      if (calls.length > 0) failed.transcript = calls;
      row.scores[name] = failed;
      if (row.status === "ok") finishWithError(row, error, `${name}: `);
    }
  }
  return "ok";
}

function errorMessage(error: unknown): string {
  return error instanceof ProviderError ? error.message : `${(error as Error).name ?? "Error"}: ${(error as Error).message ?? String(error)}`;
}

function finishWithError(row: ResultRow, error: unknown, prefix: string): ResultRow {
  row.status = "error";
  row.error_type = errorTypeOf(error);
  row.error = prefix + errorMessage(error);
  row.completed_at = new Date().toISOString();
  return row;
}
