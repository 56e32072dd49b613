import type { RunReport } from "../../src/reports/report-types.js";
import { directionText } from "./declared-metrics.js";
import { table } from "./dom.js";
import type { MetricSummary } from "../../src/metrics/summary-types.js";
import type { MetricDeclaration } from "../../src/scorers/types.js";
import { byKind, number } from "./format.js";
import { section } from "./section-card.js";

export function manifestSection(run: RunReport): HTMLElement {
  const m = run.manifest;
  const rows: Array<[string, string]> = [
    ["run", m.run_id],
    ["created", m.created_at],
    ["last updated", m.updated_at],
    ["alignbench", m.tool.version],
    ["dataset", `${m.dataset.source ?? m.dataset.path} (${m.dataset.format}, ${m.dataset.valid_rows} rows${m.dataset.limit ? `, limit ${m.dataset.limit}` : ""})`],
    ["dataset sha256", m.dataset.sha256],
    ["models", m.models.map((model) => `${model.address}${Object.keys(model.options).length ? ` ${JSON.stringify(model.options)}` : ""}`).join("; ")],
    ["personas", m.personas.join(", ") || "none"],
    ["judge", m.judge ? `${m.judge.model} (prompt: ${m.judge.prompt})` : "none"],
    ["scorers", run.summary.scorers.map((scorer) => scorer.name).join(", ") || "none"],
    ["options", JSON.stringify(m.options)],
    ["environment", `${m.environment.node} ${m.environment.platform}`],
  ];
  if (m.offline) rows.push(["offline", offlineText(m.offline)]);
  return section("Run", "manifest", table(["", ""], rows, { class: "kv" }));
}

/** --offline's record: "verified" with the hosts contacted, or the refused attempts. */
export function offlineText(offline: NonNullable<RunReport["manifest"]["offline"]>): string {
  const hosts = `hosts contacted: ${offline.hosts_contacted.join(", ") || "none"}`;
  if (offline.verified) return `verified (${hosts})`;
  if (offline.refused.length > 0)
    return `not verified: ${offline.refused.length} connection attempt(s) refused (${offline.refused.map((entry) => `${entry.host}:${entry.port ?? ""}`).join(", ")}); ${hosts}`;
  return `not verified: a session ran without --offline; ${hosts}`;
}

/** A metric's aggregates beyond its mean or rate: median and maximum, and its label counts under their title. */
function aggregatesText(metric: MetricDeclaration, summary: MetricSummary | undefined): string {
  const parts: string[] = [];
  const whole = (value: number | null | undefined) => number(value, value === null || value === undefined || Number.isInteger(value) ? 0 : 1);
  if (summary?.median !== undefined) parts.push(`median ${whole(summary.median)}, max ${whole(summary.max)}`);
  if (summary?.labels) {
    const counts = Object.entries(summary.labels).map(([label, count]) => `${label} ${count}`);
    parts.push(`${metric.labels_title ?? "labels"}: ${counts.join(", ") || "none"}`);
  }
  return parts.join("; ");
}

/** What each scorer measures: its metrics, kinds and directions, as declared. */
export function scorersSection(run: RunReport): HTMLElement {
  const rows = run.summary.scorers.flatMap((scorer) =>
    scorer.metrics.map((metric, index) => [
      index === 0 ? scorer.name : "",
      metric.label,
      metric.kind.type === "rate"
        ? "rate (0/1), %"
        : metric.kind.type === "bounded"
          ? `mean on [${metric.kind.range[0]}, ${metric.kind.range[1]}]`
          : `mean${metric.kind.unit ? ` in ${metric.kind.unit}` : ""} (unbounded)`,
      directionText(metric.bad),
      byKind(metric.kind, run.summary.totals.scores[scorer.name]?.[metric.name]),
      aggregatesText(metric, run.summary.totals.scores[scorer.name]?.[metric.name]),
    ]),
  );
  return section("Scorers", "scorers", table(["scorer", "metric", "kind", "direction", "all items (95% CI)", "also"], rows, { class: "scorers-table" }));
}
