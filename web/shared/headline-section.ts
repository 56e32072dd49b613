import type { RunReport } from "../../src/reports/report-types.js";
import type { Headline } from "../../src/metrics/summary-types.js";
import type { MetricDeclaration } from "../../src/scorers/types.js";
import { barsWithIntervals } from "./charts.js";
import { breakdownOf, chartScale, directionText, estimateOf, metricOf, modelsOf, scorerMetrics, unique, type MetricRef } from "./declared-metrics.js";
import { h, table } from "./dom.js";
import { byKind, number } from "./format.js";
import { section } from "./section-card.js";

/** A headline's kind: a toxicity probability is a rate; expected maximum toxicity a mean on the metric's range. */
function headlineMetric(run: RunReport, headline: Headline): MetricDeclaration | undefined {
  const metric = metricOf(run, headline);
  if (headline.statistic === "toxicity_probability") return metric ? { ...metric, kind: { type: "rate" } } : undefined;
  return metric;
}

/** A key per chart scale, so headlines of one kind share a chart. */
function scaleKey(metric: MetricDeclaration | undefined): string {
  const kind = metric?.kind;
  return !kind || kind.type === "rate" ? "rate" : kind.type === "bounded" ? `bounded:${kind.range.join(",")}` : `unbounded:${kind.unit ?? ""}:${metric!.label}`;
}

export function headlineSection(run: RunReport): HTMLElement {
  const headlines = run.summary.headlines;
  const models = modelsOf(run);
  if (headlines.length > 0) {
    const names = unique(headlines.map((entry) => entry.name));
    const first = (name: string) => headlines.find((headline) => headline.name === name)!;
    const value = (name: string, model: string) => headlines.find((entry) => entry.name === name && entry.model === model);
    const direction = (name: string) => {
      const higher = first(name).higher_is;
      return higher === "worse" ? "higher is worse" : higher === "better" ? "higher is better" : "";
    };
    const groups = new Map<string, string[]>();
    for (const name of names) {
      const key = scaleKey(headlineMetric(run, first(name)));
      groups.set(key, [...(groups.get(key) ?? []), name]);
    }
    return section(
      "Headline metrics",
      "headlines",
      table(
        ["metric", "direction", ...models],
        names.map((name) => [name, direction(name), ...models.map((model) => byKind(headlineMetric(run, first(name))?.kind, value(name, model)))]),
        { class: "headline-table" },
      ),
      ...[...groups.values()].map((group) =>
        barsWithIntervals(
          groups.size > 1 ? `${group.join(", ")} by model (95% CI)` : "Headline metrics by model (95% CI)",
          group,
          models.map((model) => ({ name: model, values: group.map((name) => value(name, model)) })),
          { ...chartScale(headlineMetric(run, first(group[0]!))), horizontal: group.length > 3 },
        ),
      ),
      // Every scorer gets its chart: those no headline reads are shown by model beside the headlines.
      ...byModelCharts(
        run,
        scorerMetrics(run).filter((ref) => !headlines.some((headline) => headline.scorer === ref.scorer && headline.metric === ref.metric)),
      ),
    );
  }
  // No headlines declared: every scorer's primary metric by model, the run's primary metric first.
  const metric = metricOf(run, run.primary);
  const byModel = breakdownOf(run, "model")?.groups ?? [];
  const charted = scorerMetrics(run);
  return section(
    "Headline metrics",
    "headlines",
    table(
      ["model", "n", ...charted.map((ref) => ref.label), "errors"],
      byModel.map((group) => [group.by.model ?? "", number(group.n), ...charted.map((ref) => byKind(metricOf(run, ref)?.kind, estimateOf(group, ref))), number(group.errors)]),
      { class: "headline-table" },
    ),
    run.primary && metric ? h("p", { class: "note direction" }, `${run.primary.label}: ${directionText(metric.bad)}.`) : null,
    ...byModelCharts(run, charted),
  );
}

/** Metrics by model with their intervals: one chart per scale (rates together in %, each range and unit apart). */
function byModelCharts(run: RunReport, refs: Array<MetricRef & { label: string }>): HTMLElement[] {
  const models = modelsOf(run);
  const byModel = breakdownOf(run, "model")?.groups ?? [];
  const scales = new Map<string, Array<MetricRef & { label: string }>>();
  for (const ref of refs) {
    const key = scaleKey(metricOf(run, ref));
    scales.set(key, [...(scales.get(key) ?? []), ref]);
  }
  return [...scales.values()].map((group) =>
    group.length === 1
      ? barsWithIntervals(`${group[0]!.label} by model (95% CI)`, models, [{ name: group[0]!.label, values: byModel.map((entry) => estimateOf(entry, group[0])) }], chartScale(metricOf(run, group[0])))
      : barsWithIntervals(
          `${group.map((ref) => ref.label).join(", ")} by model (95% CI)`,
          group.map((ref) => ref.label),
          byModel.map((entry) => ({ name: entry.by.model ?? "", values: group.map((ref) => estimateOf(entry, ref)) })),
          { ...chartScale(metricOf(run, group[0])), horizontal: true },
        ),
  );
}
