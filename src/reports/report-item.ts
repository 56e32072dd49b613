import { findDeclaration, outcomeOf, severityOf, type Outcome } from "../metrics/outcome.js";
import { expandedTranscript, type ResultRow, type TranscriptCall } from "../results/record.js";
import type { ReportCall, ReportItem } from "./report-types.js";
import type { RunLens } from "./run-lens.js";

const TEXT_LIMIT = 4_000;
const SAMPLE_TEXT_LIMIT = 1_000;

function clip(text: string | null | undefined, limit = TEXT_LIMIT): string | null {
  if (text === null || text === undefined) return null;
  return text.length > limit ? `${text.slice(0, limit)}… [${text.length - limit} more characters]` : text;
}

/** A row's calls with what storage left out put back (see compactRow): the one rule, from the results stage. */
export function transcriptOf(row: Pick<ResultRow, "transcript" | "messages" | "raw_candidate"> & Partial<Pick<ResultRow, "usage" | "latency_ms" | "finish_reason">>): TranscriptCall[] {
  return expandedTranscript({ usage: null, latency_ms: null, finish_reason: null, ...row });
}

/** The single call that shows nothing beyond the item's prompt and response. */
function onlyTheResponse(row: Pick<ResultRow, "transcript" | "messages" | "raw_candidate">): boolean {
  const calls = transcriptOf(row);
  return calls.length === 0 || (calls.length === 1 && calls[0]!.response === row.raw_candidate && !calls[0]!.error);
}

function reportCall(call: TranscriptCall, limit: number): ReportCall {
  return {
    role: call.role,
    model: call.model,
    messages: (call.messages ?? []).map((message) => ({
      role: String(message.role),
      content: clip(typeof message.content === "string" ? message.content : JSON.stringify(message.content), limit) ?? "",
    })),
    response: clip(call.response, limit),
    finish_reason: call.finish_reason ?? null,
    error: call.error ?? null,
  };
}

/**
 * One row as a report shows it. `full`: the transcript even when it is one call, with longer texts (the
 * worst and failed items); a sampled item carries it only when the plan made more than its one call.
 */
export function reportItem(row: ResultRow, lens: RunLens, full = true): ReportItem {
  const limit = full ? TEXT_LIMIT : SAMPLE_TEXT_LIMIT;
  const inputs = { scores: row.scores, tags: row.tags };
  return {
    key: row.key,
    test_id: row.test_id,
    model: row.model_slug,
    persona: row.persona_slug,
    category: row.category,
    epoch: row.epoch,
    // Results files keep only the dimensions beyond the row's own columns.
    dimensions: { test: row.test_id, persona: row.persona_slug, model: row.model_slug, epoch: row.epoch, ...(row.dimensions ?? {}) },
    tags: row.tags ?? null,
    status: row.status,
    prompt: clip((row.messages ?? []).filter((message) => message.role === "user").at(-1)?.content ?? "", limit)!,
    response: clip(row.raw_candidate, limit),
    outcome: lens.primary ? outcomeOf(inputs, lens.scorers, lens.primary) : null,
    severity: severityOf(inputs, lens.scorers, lens.primary),
    scores: Object.fromEntries(
      Object.entries(row.scores ?? {}).map(([name, score]) => [
        name,
        {
          value: score.value,
          label: score.label,
          ...(score.metrics ? { metrics: score.metrics } : {}),
          error: score.error,
          raw: clip(score.raw, limit),
          ...(score.model ? { model: score.model } : {}),
          ...(full && score.transcript?.length ? { transcript: score.transcript.map((call) => reportCall(call, limit)) } : {}),
        },
      ]),
    ),
    transcript: full || !onlyTheResponse(row) ? transcriptOf(row).map((call) => reportCall(call, limit)) : null,
    error: row.error,
  };
}

/**
 * How an item ranks among the worst: its severity, else (an unbounded metric with a direction, which has
 * no range) its value signed by the direction. Undefined when the item is not bad (or cannot be ranked).
 */
export function worstRank(
  item: { outcome: Outcome | null; severity: number | null; scores: Record<string, { value: number | null; metrics?: Record<string, number | null> | undefined }> | null },
  lens: RunLens,
): number | undefined {
  if (item.outcome === "bad" && item.severity !== null) return item.severity;
  if (!lens.primary || item.outcome !== "neutral") return undefined;
  const declaration = findDeclaration(lens.scorers, lens.primary.scorer);
  const metric = declaration?.metrics.find((entry) => entry.name === lens.primary!.metric);
  if (!declaration || !metric || metric.kind.type !== "unbounded") return undefined;
  const score = item.scores?.[lens.primary.scorer];
  const value = metric.name === declaration.metrics[0].name ? score?.value : score?.metrics?.[metric.name];
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  const bad = metric.bad;
  const direction = typeof bad === "string" ? bad : undefined;
  return direction === "high" ? value : direction === "low" ? -value : undefined;
}
