import type { ReportData } from "../../shared/dashboard.js";
import { h, table, textBlock } from "../../shared/dom.js";
import { valueByKind } from "../../shared/format.js";
import { transcriptBlocks } from "../../shared/item-details.js";
import type { ReportItem } from "../../../src/reports/report-data.js";
import { api, runTabs, show } from "../page-kit.js";

export async function itemPage(runId: string, index: string): Promise<void> {
  runTabs(runId, "items");
  const id = encodeURIComponent(runId);
  const [row, report] = await Promise.all([api<Record<string, unknown>>(`/api/runs/${id}/items/${encodeURIComponent(index)}`), api<ReportData>(`/api/runs/${id}/report`).catch(() => undefined)]);
  const scorers = report?.runs[0]?.summary.scorers ?? [];
  const primary = report?.runs[0]?.primary ?? null;
  const messages = (row.messages as Array<{ role: string; content: string }> | null) ?? [];
  const transcript = (row.transcript as NonNullable<ReportItem["transcript"]> | null) ?? [];
  const scores =
    (row.scores as Record<
      string,
      { value: number | null; label: string | null; metrics?: Record<string, number | null>; error: string | null; raw: string | null; model?: string; data?: unknown }
    > | null) ?? {};
  const text = (value: unknown) => (value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value));
  const fields: Array<[string, unknown]> = [
    ["key", row.key],
    ["dimensions", row.dimensions],
    ["model", row.model_slug],
    ["persona", row.persona_slug],
    ["category", row.category],
    ["subcategory", row.subcategory],
    ["tags", row.tags],
    ["epoch", row.epoch],
    ["attempt", row.attempt],
    ["status", row.status],
    ["error type", row.error_type],
    [primary ? `outcome by ${primary.label}` : "outcome", row.outcome === "good" ? "ok" : row.outcome],
    ["severity", typeof row.severity === "number" ? row.severity.toFixed(3) : null],
    ["latency (ms)", row.latency_ms],
    ["finish reason", row.finish_reason],
  ];
  const scoreRows = Object.entries(scores).flatMap(([name, score]) => {
    const declaration = scorers.find((entry) => entry.name === name) ?? scorers.find((entry) => name.endsWith(`/${entry.name}`));
    const metricRows = (declaration?.metrics ?? [{ name: "value", label: "value", kind: { type: "unbounded" as const } }]).map((metric, position) => {
      const value = position === 0 ? score.value : (score.metrics?.[metric.name] ?? null);
      return [
        position === 0 ? name : "",
        metric.label,
        valueByKind(metric.kind, value),
        position === 0 ? text(score.label) : "",
        position === 0 ? text(score.model) : "",
        position === 0 ? text(score.error) : "",
      ];
    });
    return metricRows;
  });
  show(
    h(
      "section",
      { class: "card item-detail" },
      h("h2", {}, `Item ${String(row.test_id)}`),
      table(
        ["field", "value"],
        fields.map(([name, value]) => [name, text(value)]),
        { class: "kv" },
      ),
      h("h3", {}, "Scores"),
      table(["scorer", "metric", "value", "label", "model", "error"], scoreRows, { class: "scores-table" }),
      h("h3", {}, "Conversation"),
      ...messages.map((message) => textBlock(message.role, message.content)),
      h("div", { class: "response" }, textBlock("response", (row.raw_candidate as string | null) ?? null)),
      ...transcriptBlocks(transcript),
      ...Object.entries(scores)
        .filter(([, score]) => score.raw)
        .map(([name, score]) => textBlock(`${score.model ? "judge" : "scorer"} raw output — ${name}`, score.raw)),
      ...Object.entries(scores)
        .filter(([, score]) => score.data)
        .map(([name, score]) => textBlock(`${name}: structured output (JSON)`, JSON.stringify(score.data, null, 2))),
      row.error ? textBlock("error", String(row.error)) : null,
    ),
  );
}
