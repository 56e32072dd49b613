import type { ReportItem, RunReport } from "../../src/reports/report-types.js";
import { declarationOf } from "./declared-metrics.js";
import { h, textBlock } from "./dom.js";
import { valueByKind } from "./format.js";
import { scorerCalls } from "./transcript.js";

function outcomeText(item: ReportItem): string {
  return item.outcome === "bad" ? "bad" : item.outcome === "good" ? "ok" : item.outcome === "neutral" ? "—" : "not scored";
}

/** The prompt's first words on one line, so a collapsed item says what it asked. */
export function promptStart(prompt: string, length = 120): string {
  const line = prompt.replace(/\s+/g, " ").trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

/** The lines of a message list, as text. */
function conversationText(messages: Array<{ role: string; content: string }>): string {
  return messages.map((message) => `[${message.role}]\n${message.content}`).join("\n\n");
}

/** One item, expandable: prompt, response, outcome, each scorer's result, its transcript and the judges' raw outputs. */
export function itemDetails(item: ReportItem, run?: RunReport, open = false): HTMLElement {
  const scorers = run?.summary.scorers ?? [];
  const primary = run?.primary;
  const lines = [
    primary ? `outcome by ${primary.label}: ${outcomeText(item)}` : null,
    item.severity === null ? null : `severity ${item.severity.toFixed(2)}`,
    ...Object.entries(item.tags ?? {}).map(([name, value]) => `${name}: ${value}`),
    ...Object.entries(item.scores).map(([name, score]) => {
      const declaration = declarationOf(scorers, name);
      const metrics = Object.entries(score.metrics ?? {}).map(
        ([metric, value]) => `${declaration?.metrics.find((entry) => entry.name === metric)?.label ?? metric} ${valueByKind(declaration?.metrics.find((entry) => entry.name === metric)?.kind, value)}`,
      );
      return `${name} — ${declaration?.metrics[0].label ?? "value"}: ${valueByKind(declaration?.metrics[0].kind, score.value)}${score.label ? ` (${score.label})` : ""}${metrics.length ? `; ${metrics.join("; ")}` : ""}${score.error ? `; error: ${score.error}` : ""}`;
    }),
  ].filter((line): line is string => line !== null);
  return h(
    "details",
    { class: "item", open, "data-key": item.key, "data-outcome": item.outcome ?? "none" },
    h(
      "summary",
      {},
      h("span", { class: `badge outcome-${item.outcome ?? "none"}` }, item.severity === null ? outcomeText(item) : item.severity.toFixed(2)),
      ` ${item.model} · ${item.persona} · ${item.category} · ${item.test_id}${
        item.tags
          ? ` · ${Object.entries(item.tags)
              .map(([name, value]) => `${name}=${value}`)
              .join(" ")}`
          : ""
      }`,
      h("span", { class: "prompt-start" }, promptStart(item.prompt)),
    ),
    textBlock("prompt", item.prompt),
    textBlock("response", item.response),
    textBlock("scores", lines.join("\n") || "not scored"),
    ...(item.transcript && item.transcript.length > 0 ? transcriptBlocks(item.transcript) : []),
    // A scorer's recorded calls show the judge's prompt as sent; older rows have only its raw answer.
    ...Object.entries(item.scores).map(([name, score]) =>
      score.transcript?.length ? scorerCalls(name, score, declarationOf(scorers, name), 1) : score.raw ? textBlock(`${score.model ? "judge" : "scorer"} raw output — ${name}`, score.raw) : null,
    ),
    item.error ? textBlock("error", item.error) : null,
  );
}

/** Every call of a plan, in order: who was asked (role, model), what it was sent and what it answered. Text only. */
export function transcriptBlocks(calls: NonNullable<ReportItem["transcript"]>): HTMLElement[] {
  return [
    h(
      "div",
      { class: "transcript" },
      h("div", { class: "text-label" }, `transcript (${calls.length} call${calls.length === 1 ? "" : "s"})`),
      ...calls.map((call, index) =>
        h(
          "div",
          { class: "call", "data-role": call.role },
          textBlock(`${index + 1}. ${call.role} · ${call.model} — sent`, conversationText(call.messages ?? [])),
          textBlock(`${index + 1}. ${call.role} · ${call.model} — answered${call.finish_reason ? ` (${call.finish_reason})` : ""}`, call.error ? `error: ${call.error}` : call.response),
        ),
      ),
    ),
  ];
}
