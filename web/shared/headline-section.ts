import type { RunReport } from "../../src/reports/report-data.js";
import type { Headline } from "../../src/metrics/summary-types.js";
import type { MetricDeclaration } from "../../src/scorers/types.js";
import { barsWithIntervals } from "./charts.js";
import { breakdownOf, chartScale, directionText, estimateOf, metricOf, modelsOf, unique } from "./declared-metrics.js";
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
    );
  }
  const metric = metricOf(run, run.primary);
  const label = run.primary?.label ?? "items";
  const byModel = breakdownOf(run, "model")?.groups ?? [];
  return section(
    "Headline metrics",
    "headlines",
    table(
      ["model", "n", ...(run.primary ? [label] : []), "errors"],
      byModel.map((group) => [group.by.model ?? "", number(group.n), ...(run.primary ? [byKind(metric?.kind, estimateOf(group, run.primary))] : []), number(group.errors)]),
      { class: "headline-table" },
    ),
    run.primary && metric ? h("p", { class: "note direction" }, `${label}: ${directionText(metric.bad)}.`) : null,
    run.primary ? barsWithIntervals(`${label} by model (95% CI)`, models, [{ name: label, values: byModel.map((group) => estimateOf(group, run.primary)) }], chartScale(metric)) : null,
  );
}
