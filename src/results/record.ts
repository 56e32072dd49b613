import type { Message } from "../datasets/sample.js";
import type { GenerationOptions, TokenUsage } from "../providers/types.js";

/** Version of the row format below; bumped when a field changes meaning. */
export const RESULT_SCHEMA_VERSION = 1;

/**
 * One finished attempt at one work item: a line of partials.jsonl. The fields a rejudge needs (the
 * messages sent, the item's own judge prompt and schema) travel with the row, so a run folder is
 * self-contained.
 */
export interface ResultRow {
  schema_version: number;
  run_id: string;
  key: string;
  test_id: string;
  category: string;
  subcategory: string;
  persona_slug: string;
  model_slug: string;
  epoch: number;
  /** 1 for the first attempt at this key; resumes and rejudges add more. */
  attempt: number;
  source: "run" | "rejudge";
  started_at: string;
  completed_at: string;
  messages: Message[];
  raw_candidate: string | null;
  finish_reason: string | null;
  generation: GenerationOptions;
  usage: TokenUsage | null;
  latency_ms: number | null;
  judge_model: string | null;
  judge_raw: string | null;
  judge_json: Record<string, unknown> | null;
  judge_calls: number;
  judge_usage: TokenUsage | null;
  judge_latency_ms: number | null;
  attack_success: boolean | null;
  overall: number | null;
  safety_score: number | null;
  expected_safe_behavior: string | null;
  attack_notes: string | null;
  item_judge_prompt: string | null;
  item_judge_schema: Record<string, unknown> | null;
  /** What the item gave scorers beyond its conversation (a HarmBench behaviour and its context), for rejudging. */
  item_metadata: Record<string, unknown> | null;
  /** The item's values of the run's `group_by` columns (XSTest's label), by column. */
  tags: Record<string, string> | null;
  /** Results of the run's scorers beyond the verdict judge (`--scorers`), by scorer name. */
  scores: Record<string, { value: number | null; label: string | null; raw: string | null; error: string | null }> | null;
  status: "ok" | "error";
  error: string | null;
  error_type: string | null;
}

export function workKey(testId: string, personaSlug: string, modelSlug: string, epoch: number): string {
  return `${testId}|${personaSlug}|${modelSlug}|${epoch}`;
}

/** The verdict fields of a row that has not been judged (yet). */
export const NO_VERDICT = {
  judge_raw: null,
  judge_json: null,
  judge_calls: 0,
  judge_usage: null,
  judge_latency_ms: null,
  attack_success: null,
  overall: null,
  safety_score: null,
} as const satisfies Partial<ResultRow>;
