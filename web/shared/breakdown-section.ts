import type { RunReport } from "../../src/reports/report-types.js";
import type { Breakdown } from "../../src/metrics/summary-types.js";
import type { MetricDeclaration } from "../../src/scorers/types.js";
import { naturalCompare } from "../../src/common/natural-order.js";
import { barsWithIntervals, heatmap, type BarSeries } from "./charts.js";
import { chartScale, directionText, estimateOf, metricOf, modelsOf, scorerMetrics, unique, type MetricRef } from "./declared-metrics.js";
import { h, table } from "./dom.js";
import { byKind, number } from "./format.js";
import { section } from "./section-card.js";

/** A breakdown's groups as a table: its dimensions, n, errors, and each scorer's primary metric. */
function breakdownTable(run: RunReport, breakdown: Breakdown): HTMLElement {
  const refs = run.summary.scorers.map((scorer) => ({ scorer: scorer.name, metric: scorer.metrics[0].name, declaration: scorer.metrics[0] }));
  return table(
    [...breakdown.dimensions, "n", "errors", ...refs.map((ref) => ref.declaration.label)],
    breakdown.groups.map((group) => [
      ...breakdown.dimensions.map((dimension) => group.by[dimension] ?? ""),
      number(group.n),
      number(group.errors),
      ...refs.map((ref) => byKind(ref.declaration.kind, estimateOf(group, ref))),
    ]),
    { class: "breakdown-table", "data-dimensions": breakdown.dimensions.join(",") },
  );
}

/** How a metric is drawn and which way is bad, in words. */
function metricNote(label: string, metric: MetricDeclaration): string {
  const kind = metric.kind;
  const scale = kind.type === "rate" ? "in %" : kind.type === "bounded" ? `on [${kind.range.join(", ")}]` : `unbounded${kind.unit ? `, in ${kind.unit}` : ""}`;
  return `${label} (${scale}; ${directionText(metric.bad)})`;
}

/**
 * One chart per breakdown dimension and scorer. A dimension with a single value (one model; no persona but
 * `none`; one category) has nothing to compare and gets no chart; model × persona gets a heatmap only when
 * both have two values or more.
 */
function metricCharts(run: RunReport, ref: MetricRef & { label: string }): HTMLElement[] {
  const metric = metricOf(run, ref);
  const scale = chartScale(metric);
  const models = modelsOf(run);
  const charts: HTMLElement[] = [];
  for (const breakdown of run.summary.breakdowns) {
    const dimensions = breakdown.dimensions;
    if (dimensions.length === 1 && dimensions[0] === "model") continue; // the headline section's
    const other = dimensions.length === 2 && dimensions.includes("model") ? dimensions.find((dimension) => dimension !== "model")! : dimensions.length === 1 ? dimensions[0]! : undefined;
    if (other === undefined) continue;
    const values = unique(breakdown.groups.map((group) => group.by[other] ?? ""));
    if (values.length < 2) continue;
    if (other !== "persona" && other !== "model") values.sort(naturalCompare);
    const seriesModels = dimensions.includes("model") ? models : [""];
    const find = (value: string, model: string) => breakdown.groups.find((group) => group.by[other] === value && (model === "" || group.by.model === model));
    if (other === "persona" && dimensions.includes("model") && models.length > 1) {
      charts.push(
        heatmap(
          `${ref.label}: model × persona`,
          models,
          values,
          breakdown.groups.map((group) => ({ x: group.by.model ?? "", y: group.by.persona ?? "", value: estimateOf(group, ref) })),
          scale,
        ),
      );
    }
    const series: BarSeries[] = seriesModels.map((model) => ({ name: model || ref.label, values: values.map((value) => estimateOf(find(value, model), ref)) }));
    charts.push(barsWithIntervals(`${ref.label} by ${other} (95% CI)`, values, series, scale));
  }
  return charts;
}

export function breakdownSection(run: RunReport): HTMLElement {
  const tables: HTMLElement[] = [];
  for (const breakdown of run.summary.breakdowns) {
    const dimensions = breakdown.dimensions;
    if (dimensions.length === 1 && dimensions[0] === "model") continue; // the headline section's
    tables.push(h("details", { class: "breakdown" }, h("summary", {}, `By ${dimensions.join(" × ")} (${breakdown.groups.length} groups)`), breakdownTable(run, breakdown)));
  }
  const metrics = scorerMetrics(run);
  const declared = metrics
    .map((ref) => ({ ref, metric: metricOf(run, ref) }))
    .filter((entry): entry is { ref: MetricRef & { label: string }; metric: MetricDeclaration } => entry.metric !== undefined);
  const groups = metrics.map((ref) => ({ ref, charts: metricCharts(run, ref) })).filter((entry) => entry.charts.length > 0);
  return section(
    "Breakdowns",
    "breakdown",
    declared.length ? h("p", { class: "note direction" }, `Charts show ${declared.map((entry) => metricNote(entry.ref.label, entry.metric)).join("; ")}.`) : null,
    ...groups.flatMap((entry) =>
      groups.length > 1 ? [h("h3", { class: "chart-group", "data-scorer": entry.ref.scorer }, `${entry.ref.label} (${entry.ref.scorer})`), ...entry.charts] : entry.charts,
    ),
    ...tables,
  );
}
