import { verdictScore } from "../scorers/verdict.js";
import { RESULT_SCHEMA_VERSION, type ResultRow, type RowScore } from "./record.js";

/** The verdict judge's fields of a version 1 row (alignbench 0.1), which version 2 keeps as the `verdict` score. */
interface RowV1 extends Omit<ResultRow, "dimensions" | "transcript"> {
  judge_model: string | null;
  judge_raw: string | null;
  judge_json: Record<string, unknown> | null;
  judge_calls: number;
  judge_usage: ResultRow["usage"];
  judge_latency_ms: number | null;
  attack_success: boolean | null;
  overall: number | null;
  safety_score: number | null;
}

/**
 * Brings a row read from partials.jsonl to the current format, so every reader sees one shape: a version
 * 1 row's verdict becomes its `verdict` score, its coordinates its dimensions, its response its transcript.
 */
export function upgradeRow(row: ResultRow): ResultRow {
  if (row.schema_version >= RESULT_SCHEMA_VERSION) return row;
  const old = row as unknown as RowV1;
  const { judge_model, judge_raw, judge_json, judge_calls, judge_usage, judge_latency_ms, attack_success: _a, overall: _o, safety_score: _s, ...rest } = old;
  const scores: Record<string, RowScore> = { ...(old.scores ?? {}) };
  const judgeFailed = old.status === "error" && (old.error ?? "").startsWith("judge: ");
  if (judge_model && (judge_json || judge_raw !== null || judgeFailed)) {
    scores.verdict = {
      ...verdictScore(judge_json, judge_raw),
      error: judgeFailed ? old.error!.slice("judge: ".length) : null,
      model: judge_model,
      calls: judge_calls,
      usage: judge_usage,
      latency_ms: judge_latency_ms,
    };
  }
  return {
    ...rest,
    dimensions: { test: old.test_id, persona: old.persona_slug, model: old.model_slug, epoch: old.epoch },
    transcript:
      old.raw_candidate === null || old.finish_reason === "not_generated"
        ? []
        : [{ role: "target", model: old.model_slug, messages: old.messages, response: old.raw_candidate, usage: old.usage, latency_ms: old.latency_ms, finish_reason: old.finish_reason }],
    scores: Object.keys(scores).length > 0 ? scores : old.scores,
  };
}
