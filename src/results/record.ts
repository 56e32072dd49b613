import type { Message } from "../providers/messages.js";
import type { GenerationOptions, TokenUsage } from "../providers/types.js";

/**
 * Version of the row format below; bumped when a field changes meaning. 1: alignbench 0.1 (the verdict
 * judge's fields at the top level); 2: every scorer's result under `scores`, the dimensions and the
 * plan's transcript on the row. Version 1 rows are upgraded when read (row-upgrade.ts).
 */
export const RESULT_SCHEMA_VERSION = 2;

/** One model call a plan made for a work item. */
export interface TranscriptCall {
  /** The role the model played: target, judge, attacker, baseline… */
  role: string;
  model: string;
  messages: Message[];
  response: string | null;
  usage: TokenUsage | null;
  latency_ms: number | null;
  finish_reason: string | null;
  error?: string | null;
}

/** One scorer's result on a row (see scorers/types.ts for what each field means). */
export interface RowScore {
  value: number | null;
  label: string | null;
  raw: string | null;
  error: string | null;
  metrics?: Record<string, number | null>;
  data?: Record<string, unknown> | null;
  model?: string;
  calls?: number;
  usage?: TokenUsage | null;
  latency_ms?: number | null;
}

/**
 * One finished attempt at one work item: a line of partials.jsonl. The fields a rejudge needs (the
 * messages sent, the item's own judge prompt and schema) travel with the row, so a run folder is
 * self-contained.
 */
export interface ResultRow {
  schema_version: number;
  run_id: string;
  key: string;
  /** The work item's coordinates, by dimension name (test, persona, model, epoch, and any a suite adds). */
  dimensions: Record<string, string | number>;
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
  /** What the model under test was sent first (persona composed in). */
  messages: Message[];
  /** The model under test's (last) response. */
  raw_candidate: string | null;
  finish_reason: string | null;
  generation: GenerationOptions;
  usage: TokenUsage | null;
  latency_ms: number | null;
  /** Every model call the plan made, in order (the scorers' judge calls are in their scores). */
  transcript: TranscriptCall[];
  expected_safe_behavior: string | null;
  attack_notes: string | null;
  item_judge_prompt: string | null;
  item_judge_schema: Record<string, unknown> | null;
  /** What the item gave scorers beyond its conversation (a HarmBench behaviour and its context), for rejudging. */
  item_metadata: Record<string, unknown> | null;
  /** The item's values of the run's `group_by` columns (XSTest's label), by column. */
  tags: Record<string, string> | null;
  /** Every scorer's result, by scorer name (the verdict judge is the scorer `verdict`). */
  scores: Record<string, RowScore> | null;
  status: "ok" | "error";
  error: string | null;
  error_type: string | null;
}

/**
 * How a row is stored: a transcript call whose messages or response are the row's own (the generate plan's
 * one call) leaves them out, so partials.jsonl does not hold every prompt and response twice. `expandRow`
 * puts them back when the row is read.
 */
export function compactRow(row: ResultRow): ResultRow {
  if (row.transcript.length === 0) return row;
  let changed = false;
  const transcript = row.transcript.map((call) => {
    const sameMessages = call.messages === row.messages;
    const sameResponse = call.response !== null && call.response === row.raw_candidate;
    if (!sameMessages && !sameResponse) return call;
    changed = true;
    const { messages, response, ...rest } = call;
    return { ...rest, ...(sameMessages ? {} : { messages }), ...(sameResponse ? {} : { response }) } as TranscriptCall;
  });
  return changed ? { ...row, transcript } : row;
}

export function expandRow(row: ResultRow): ResultRow {
  for (const call of row.transcript ?? []) {
    if (call.messages === undefined) call.messages = row.messages;
    if (call.response === undefined) call.response = row.raw_candidate;
  }
  return row;
}

/** The dimensions every run has, in key order; suites and plans may add more after them. */
export const BASE_DIMENSIONS = ["test", "persona", "model", "epoch"] as const;

/** A work key: the values of the run's dimensions in order (0.1's keys are test|persona|model|epoch). */
export function keyOf(dimensions: Record<string, string | number>, order: readonly string[] = BASE_DIMENSIONS): string {
  return order.map((name) => String(dimensions[name])).join("|");
}

export function workKey(testId: string, personaSlug: string, modelSlug: string, epoch: number): string {
  return keyOf({ test: testId, persona: personaSlug, model: modelSlug, epoch });
}
