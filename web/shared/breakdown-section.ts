import type { RunReport } from "../../src/reports/report-data.js";
import type { Breakdown } from "../../src/metrics/summary-types.js";
import { barsWithIntervals, heatmap, type BarSeries } from "./charts.js";
import { chartScale, directionText, estimateOf, metricOf, modelsOf, unique } from "./declared-metrics.js";
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

export function breakdownSection(run: RunReport): HTMLElement {
  const ref = run.primary;
  const metric = metricOf(run, ref);
  const label = ref?.label ?? "";
  const scale = chartScale(metric);
  const models = modelsOf(run);
  const charts: Array<HTMLElement | null> = [];
  const tables: HTMLElement[] = [];
  for (const breakdown of run.summary.breakdowns) {
    const dimensions = breakdown.dimensions;
    if (dimensions.length === 1 && dimensions[0] === "model") continue; // the headline section's
    tables.push(h("details", { class: "breakdown" }, h("summary", {}, `By ${dimensions.join(" × ")} (${breakdown.groups.length} groups)`), breakdownTable(run, breakdown)));
    if (!ref) continue;
    const other = dimensions.length === 2 && dimensions.includes("model") ? dimensions.find((dimension) => dimension !== "model")! : dimensions.length === 1 ? dimensions[0]! : undefined;
    if (other === undefined) continue;
    const values = unique(breakdown.groups.map((group) => group.by[other] ?? ""));
    if (other !== "persona" && other !== "model") values.sort();
    const seriesModels = dimensions.includes("model") ? models : [""];
    const find = (value: string, model: string) => breakdown.groups.find((group) => group.by[other] === value && (model === "" || group.by.model === model));
    if (other === "persona" && dimensions.includes("model")) {
      charts.push(
        heatmap(
          `${label}: model × persona`,
          models,
          values,
          breakdown.groups.map((group) => ({ x: group.by.model ?? "", y: group.by.persona ?? "", value: estimateOf(group, ref) })),
          scale,
        ),
      );
    }
    const series: BarSeries[] = seriesModels.map((model) => ({ name: model || label, values: values.map((value) => estimateOf(find(value, model), ref)) }));
    charts.push(barsWithIntervals(`${label} by ${other} (95% CI)`, values, series, scale));
  }
  return section(
    "Breakdowns",
    "breakdown",
    metric
      ? h(
          "p",
          { class: "note direction" },
          `Charts show ${label} (${metric.kind.type === "rate" ? "in %" : metric.kind.type === "bounded" ? `on [${metric.kind.range.join(", ")}]` : `unbounded${metric.kind.unit ? `, in ${metric.kind.unit}` : ""}`}; ${directionText(metric.bad)}).`,
        )
      : null,
    ...charts,
    ...tables,
  );
}
