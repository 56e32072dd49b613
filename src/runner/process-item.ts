import { composeMessages } from "../personas/compose.js";
import { NO_PERSONA } from "../personas/persona.js";
import { ProviderError, errorTypeOf } from "../providers/errors.js";
import { NO_VERDICT, RESULT_SCHEMA_VERSION, type ResultRow } from "../results/record.js";
import { JudgeInvalidError, verdictFields } from "../scorers/judge/llm-judge.js";
import type { Sample } from "../datasets/sample.js";
import type { Scorer, ScorerContext, ScorerServices } from "../scorers/registry.js";
import type { PreparedJudge } from "./prepare.js";
import type { WorkItem } from "./work-items.js";

/**
 * Runs one work item: the model's response, then the judge's verdict. Always returns the row to record,
 * except when the item was cancelled mid-flight: then it returns undefined and the key stays not done.
 */
export interface ItemSettings {
  judge?: PreparedJudge | undefined;
  signal?: AbortSignal | undefined;
  /** Scorers besides the verdict judge, and what they may call. */
  scorers?: Scorer[];
  services?: ScorerServices;
  /** False for suites scored by log-likelihood only: no response is generated. */
  respond?: boolean;
}

export async function processItem(runId: string, item: WorkItem, settings: ItemSettings = {}): Promise<ResultRow | undefined> {
  const { judge, signal, scorers = [], services = {}, respond = true } = settings;
  const { sample } = item;
  const messages = composeMessages(sample, item.persona);
  const startedAt = new Date().toISOString();
  const row: ResultRow = {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: runId,
    key: item.key,
    test_id: sample.id,
    category: sample.category,
    subcategory: sample.subcategory,
    persona_slug: item.persona?.slug ?? NO_PERSONA,
    model_slug: item.model.address,
    epoch: item.epoch,
    attempt: item.attempt,
    source: "run",
    started_at: startedAt,
    completed_at: startedAt,
    messages,
    raw_candidate: null,
    finish_reason: null,
    generation: item.model.options,
    usage: null,
    latency_ms: null,
    judge_model: judge?.address ?? null,
    ...NO_VERDICT,
    expected_safe_behavior: sample.expectedSafeBehavior ?? null,
    attack_notes: sample.attackNotes ?? null,
    item_judge_prompt: sample.judgePrompt ?? null,
    item_judge_schema: sample.judgeSchema ?? null,
    ...itemMetadataFields(sample),
    scores: null,
    status: "ok",
    error: null,
    error_type: null,
  };
  try {
    if (!respond) {
      row.raw_candidate = "";
      row.finish_reason = "not_generated";
    } else if (item.previous) {
      // The model already answered in an earlier attempt; only its judging failed.
      row.raw_candidate = item.previous.raw_candidate;
      row.finish_reason = item.previous.finish_reason;
      row.usage = item.previous.usage;
      row.latency_ms = item.previous.latency_ms;
      row.generation = item.previous.generation;
    } else {
      const request: Parameters<typeof item.model.call>[0] = { messages, options: item.model.options };
      if (signal) request.signal = signal;
      const response = await item.model.call(request);
      row.raw_candidate = response.text;
      row.finish_reason = response.finishReason;
      row.usage = response.usage;
      row.latency_ms = Math.round(response.latencyMs * 10) / 10;
    }
  } catch (error) {
    if (errorTypeOf(error) === "cancelled") return undefined;
    return finishWithError(row, error, "");
  }
  if (judge?.verdict) {
    const judged = await judgeRow(row, item, judge, signal);
    if (judged === "cancelled") return undefined;
  }
  if (scorers.length > 0) {
    const scored = await scoreRow(row, sample, scorers, { ...services, target: item.model.scoring }, signal);
    if (scored === "cancelled") return undefined;
  }
  row.completed_at = new Date().toISOString();
  return row;
}

/** The sample's metadata as stored on its rows: the group_by tags apart, the rest for scorers. */
export function itemMetadataFields(sample: Sample): { item_metadata: Record<string, unknown> | null; tags: Record<string, string> | null } {
  if (!sample.metadata) return { item_metadata: null, tags: null };
  const { tags, ...rest } = sample.metadata;
  return { item_metadata: Object.keys(rest).length > 0 ? rest : null, tags: (tags as Record<string, string> | undefined) ?? null };
}

/** Runs the run's extra scorers; a scorer that fails gives its own error, and the row is marked failed. */
export async function scoreRow(row: ResultRow, sample: Sample, scorers: Scorer[], services: ScorerServices, signal?: AbortSignal): Promise<"ok" | "cancelled"> {
  row.scores = {};
  const memo = new Map<string, Promise<unknown>>();
  for (const entry of scorers) {
    try {
      const context: ScorerContext = { sample, messages: row.messages, response: row.raw_candidate ?? "", services, memo };
      if (signal) context.signal = signal;
      row.scores[entry.name] = await entry.score(context);
    } catch (error) {
      if (errorTypeOf(error) === "cancelled") return "cancelled";
      row.scores[entry.name] = { value: null, label: null, raw: error instanceof JudgeInvalidError ? error.raw : null, error: (error as Error).message };
      if (row.status === "ok") finishWithError(row, error, `${entry.name}: `);
    }
  }
  return "ok";
}

/** Scores an existing response into `row` (used by runs and by rejudge). */
export async function judgeRow(row: ResultRow, item: Pick<WorkItem, "sample">, judge: PreparedJudge, signal?: AbortSignal): Promise<"ok" | "error" | "cancelled"> {
  row.judge_model = judge.address;
  try {
    const verdict = await judge.judge.judge(item.sample, row.messages, row.raw_candidate ?? "", signal);
    row.judge_raw = verdict.raw;
    row.judge_json = verdict.json;
    row.judge_calls = verdict.calls;
    row.judge_usage = verdict.usage;
    row.judge_latency_ms = Math.round(verdict.latencyMs * 10) / 10;
    const fields = verdictFields(verdict.json);
    row.attack_success = fields.attackSuccess;
    row.overall = fields.overall;
    row.safety_score = fields.safetyScore;
    return "ok";
  } catch (error) {
    if (errorTypeOf(error) === "cancelled") return "cancelled";
    if (error instanceof JudgeInvalidError) {
      row.judge_raw = error.raw;
      row.judge_calls = error.calls;
    }
    finishWithError(row, error, "judge: ");
    return "error";
  }
}

function finishWithError(row: ResultRow, error: unknown, prefix: string): ResultRow {
  row.status = "error";
  row.error_type = errorTypeOf(error);
  row.error = prefix + (error instanceof ProviderError ? error.message : `${(error as Error).name ?? "Error"}: ${(error as Error).message ?? String(error)}`);
  row.completed_at = new Date().toISOString();
  return row;
}
