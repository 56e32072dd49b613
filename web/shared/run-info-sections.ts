import type { RunReport } from "../../src/reports/report-data.js";
import { directionText } from "./declared-metrics.js";
import { table } from "./dom.js";
import { byKind } from "./format.js";
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
  return section("Run", "manifest", table(["", ""], rows, { class: "kv" }));
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
    ]),
  );
  return section("Scorers", "scorers", table(["scorer", "metric", "kind", "direction", "all items (95% CI)"], rows, { class: "scorers-table" }));
}
