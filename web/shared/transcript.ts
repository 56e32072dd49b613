// An item's model calls as each model saw them: every message as sent (system prompt, turns), then the
// answer. Shared by the viewer's item page and the report's item list. All text is hostile: text nodes only.
import type { MetricDeclaration, ScorerDeclaration } from "../../src/scorers/types.js";
import { h, textBlock } from "./dom.js";
import { valueByKind } from "./format.js";

/** A call as the report (clipped) or the viewer (whole) holds it. */
export interface CallLike {
  role: string;
  model: string;
  messages?: Array<{ role: string; content: unknown }> | null;
  response: string | null;
  finish_reason?: string | null;
  error?: string | null;
}

/** A score as the report or the viewer holds it. */
export interface ScoreLike {
  value: number | null;
  label: string | null;
  raw: string | null;
  error: string | null;
  metrics?: Record<string, number | null>;
  data?: unknown;
  model?: string;
  transcript?: CallLike[] | null;
}

function contentText(content: unknown): string {
  return typeof content === "string" ? content : JSON.stringify(content, null, 2);
}

/** One call: a numbered heading (who was asked), each message it was sent, then its answer or error. */
export function callBlock(label: string, call: CallLike): HTMLElement {
  return h(
    "div",
    { class: "call", "data-role": call.role },
    h("div", { class: "call-head" }, `${label} · ${call.role} · ${call.model}`),
    ...(call.messages ?? []).map((message) =>
      h(
        "div",
        { class: `message message-${message.role === "system" || message.role === "user" || message.role === "assistant" ? message.role : "other"}` },
        textBlock(`sent: ${message.role}`, contentText(message.content)),
      ),
    ),
    h("div", { class: "answer" }, textBlock(call.error ? "error" : `answered${call.finish_reason ? ` (${call.finish_reason})` : ""}`, call.error ?? call.response)),
  );
}

/** The plan's calls, in order. */
export function planCalls(calls: CallLike[]): HTMLElement {
  return h("div", { class: "transcript plan-calls" }, ...calls.map((call, index) => callBlock(`${index + 1}`, call)));
}

/** A metric's value of a score: the primary metric is `value`, the others are under `metrics`. */
function metricValue(score: ScoreLike, metric: MetricDeclaration, position: number): string {
  const value = position === 0 ? score.value : (score.metrics?.[metric.name] ?? null);
  return `${metric.label}: ${valueByKind(metric.kind, value)}`;
}

/** What a score parsed to, by its declaration (each metric's label and kind), its label and error. */
export function parsedScore(score: ScoreLike, declaration: ScorerDeclaration | undefined): string {
  const metrics = declaration?.metrics ?? [{ name: "value", label: "value", kind: { type: "unbounded" as const }, bad: "none" as const }];
  const lines = metrics.map((metric, position) => metricValue(score, metric, position));
  if (!declaration) for (const [name, value] of Object.entries(score.metrics ?? {})) lines.push(`${name}: ${value ?? "—"}`);
  if (score.label) lines.push(`label: ${score.label}`);
  if (score.error) lines.push(`error: ${score.error}`);
  return lines.join("\n");
}

/**
 * One scorer's part of the transcript: each of its model calls (a judge's prompt exactly as sent, a repair,
 * the raw answers), then the score parsed from them. A scorer that made no recorded call shows its raw output.
 */
export function scorerCalls(name: string, score: ScoreLike, declaration: ScorerDeclaration | undefined, numberFrom: number): HTMLElement {
  const calls = score.transcript ?? [];
  return h(
    "div",
    { class: "scorer-calls", "data-scorer": name },
    h("h4", {}, `scorer ${name}${score.model ? ` · ${score.model}` : ""}`),
    ...calls.map((call, index) => callBlock(`${numberFrom + index}`, call)),
    calls.length === 0 && score.raw !== null ? textBlock(score.model ? "judge raw output (its prompt was not recorded: a row written before prompts were kept)" : "scorer output", score.raw) : null,
    h("div", { class: "parsed-score" }, textBlock("parsed score", parsedScore(score, declaration))),
    score.data ? textBlock("structured output (JSON)", JSON.stringify(score.data, null, 2)) : null,
  );
}
