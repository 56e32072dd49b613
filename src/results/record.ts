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
  /** What the provider said about how it produced the answer (a mixture of experts' routing weights). */
  details?: Record<string, unknown>;
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
  /** The scorer's model calls in order, each with the messages exactly as sent and the answer (repairs too). */
  transcript?: TranscriptCall[];
  /** Repeat judging (`--judge-repeats k`): every judging of the item, the first usable one being the score itself. */
  repeats?: Judging[];
  /** A judge panel (`--judge-model a,b,c`): each judge's judging; the score is their aggregate. */
  panel?: Judging[];
}

/** One judge's judging of one item, kept beside the score it went into (repeats, panels). */
export interface Judging {
  /** The judge model (panels). */
  judge?: string;
  value: number | null;
  label: string | null;
  metrics?: Record<string, number | null>;
  /** verdict, refused (declined to grade), unparseable (answered, not readably), error (no answer). */
  outcome: "verdict" | "refused" | "unparseable" | "error";
  error?: string | null;
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
 * How a row is stored: what the row's own fields already say is left out, so partials.jsonl does not hold
 * every prompt and response twice. The dimensions test, persona, model and epoch are the row's test_id,
 * persona_slug, model_slug and epoch; a transcript call's messages and response, when they are the row's
 * own; and the one target call of a single-call plan's usage, latency and finish reason. `expandRow` puts
 * them back when the row is read.
 */
export function compactRow(row: ResultRow): ResultRow {
  const stored: Partial<ResultRow> = { ...row, transcript: compactTranscript(row) };
  const dimensions = extraDimensions(row);
  if (dimensions) stored.dimensions = dimensions;
  else delete stored.dimensions;
  return stored as ResultRow;
}

/** The row as one line of partials.jsonl (compactRow's form), without copying the row: it is written on every append. */
export function storedJson(row: ResultRow): string {
  const { transcript, dimensions } = row;
  const mutable = row as { transcript: TranscriptCall[]; dimensions: Record<string, string | number> | undefined };
  mutable.transcript = compactTranscript(row);
  mutable.dimensions = extraDimensions(row); // undefined leaves the field out
  try {
    return JSON.stringify(row);
  } finally {
    mutable.transcript = transcript;
    mutable.dimensions = dimensions;
  }
}

/** The transcript as stored: each call without what the row's own fields say (see compactRow). */
export function compactTranscript(row: ResultRow): TranscriptCall[] {
  const calls = row.transcript;
  if (calls.length === 0) return calls;
  const single = calls.length === 1 ? calls[0]! : undefined;
  const sameCall =
    single !== undefined && single.role === "target" && !single.error && single.latency_ms === row.latency_ms && single.finish_reason === row.finish_reason && sameUsage(single.usage, row.usage);
  const out: TranscriptCall[] = new Array(calls.length);
  for (let index = 0; index < calls.length; index++) {
    const call = calls[index]!;
    const sameMessages = call.messages === row.messages;
    const sameResponse = call.response !== null && call.response === row.raw_candidate;
    if (!sameMessages && !sameResponse && !sameCall) {
      out[index] = call;
      continue;
    }
    const kept = { role: call.role, model: call.model } as TranscriptCall;
    if (!sameMessages) kept.messages = call.messages;
    if (!sameResponse) kept.response = call.response;
    if (!sameCall) {
      kept.usage = call.usage;
      kept.latency_ms = call.latency_ms;
      kept.finish_reason = call.finish_reason;
    }
    if (call.error !== undefined) kept.error = call.error;
    if (call.details !== undefined) kept.details = call.details;
    out[index] = kept;
  }
  return out;
}

export function expandRow(row: ResultRow): ResultRow {
  // Literal objects with fixed fields, not spreads: this runs on every row of every bulk read.
  const dimensions: Record<string, string | number> = { test: row.test_id, persona: row.persona_slug, model: row.model_slug, epoch: row.epoch };
  const stored = row.dimensions as Record<string, string | number> | undefined;
  if (stored) for (const name in stored) dimensions[name] = stored[name]!;
  row.dimensions = dimensions;
  row.transcript = expandedTranscript(row);
  return row;
}

/** A row's transcript with what storage left out put back (the row may be stored or already expanded). */
export function expandedTranscript(row: Pick<ResultRow, "transcript" | "messages" | "raw_candidate" | "usage" | "latency_ms" | "finish_reason">): TranscriptCall[] {
  const calls = row.transcript ?? [];
  const single = calls.length === 1;
  const out: TranscriptCall[] = new Array(calls.length);
  for (let index = 0; index < calls.length; index++) {
    const call = calls[index]!;
    const expanded: TranscriptCall = {
      role: call.role,
      model: call.model,
      messages: call.messages ?? row.messages,
      response: call.response !== undefined ? call.response : row.raw_candidate,
      usage: call.usage !== undefined ? call.usage : single ? row.usage : null,
      latency_ms: call.latency_ms !== undefined ? call.latency_ms : single ? row.latency_ms : null,
      finish_reason: call.finish_reason !== undefined ? call.finish_reason : single ? row.finish_reason : null,
    };
    if (call.error !== undefined) expanded.error = call.error;
    if (call.details !== undefined) expanded.details = call.details;
    out[index] = expanded;
  }
  return out;
}

/** The dimensions beyond the row's own fields (a plan's strategy, checkpoint…), or undefined when there are none. */
export function extraDimensions(row: Pick<ResultRow, "dimensions" | "test_id" | "persona_slug" | "model_slug" | "epoch">): Record<string, string | number> | undefined {
  const dimensions = row.dimensions;
  if (!dimensions) return undefined;
  const { test, persona, model, epoch } = dimensions;
  const own =
    (test === undefined || test === row.test_id) &&
    (persona === undefined || persona === row.persona_slug) &&
    (model === undefined || model === row.model_slug) &&
    (epoch === undefined || epoch === row.epoch);
  if (!own) return dimensions;
  // Written on every row: allocates only when a plan added dimensions.
  let extra: Record<string, string | number> | undefined;
  for (const name in dimensions) {
    if (name === "test" || name === "persona" || name === "model" || name === "epoch") continue;
    extra ??= {};
    extra[name] = dimensions[name]!;
  }
  return extra;
}

function sameUsage(a: TokenUsage | null, b: TokenUsage | null): boolean {
  return a === b || (a !== null && b !== null && a.input_tokens === b.input_tokens && a.output_tokens === b.output_tokens);
}

/** The dimensions every run has, in key order; suites and plans may add more after them. */
export const BASE_DIMENSIONS = ["test", "persona", "model", "epoch"] as const;

/** A work key: the values of the run's dimensions in order (0.1's keys are test|persona|model|epoch). */
export function keyOf(dimensions: Record<string, string | number>, order: readonly string[] = BASE_DIMENSIONS): string {
  return order.map((name) => String(dimensions[name])).join("|");
}
