import type { Estimate } from "../metrics/intervals.js";
import { findMetric, primaryMetricOf, type MetricRef } from "../metrics/outcome.js";
import type { Breakdown, GroupSummary, Headline, MetricSummary, RunSummary } from "../metrics/summary-types.js";
import type { MetricDeclaration } from "../scorers/types.js";

// How a summary's numbers read, from the scorers' declarations it carries: which metric is a group's
// primary one, whether a number is a proportion (shown in %) or a mean (with its unit), and where a
// breakdown is. Pure and type-only in its imports (outcome.ts is pure too), so the terminal, the paper
// tables and the browser front end share it.

export type { MetricRef } from "../metrics/outcome.js";

/** The declaration of a metric of the summary. */
export function metricDeclaration(summary: Pick<RunSummary, "scorers">, ref: MetricRef): MetricDeclaration | undefined {
  return findMetric(summary.scorers, ref);
}

/** The metric the summary is read by first: its first headline's, else the first directed scorer's primary one. */
export function primaryMetric(summary: Pick<RunSummary, "scorers" | "headlines">): MetricRef | undefined {
  return primaryMetricOf(summary.scorers, summary.headlines);
}

/** A group's summary of one metric. */
export function metricEstimate(group: Pick<GroupSummary, "scores"> | undefined, ref: MetricRef | undefined): MetricSummary | undefined {
  return ref ? group?.scores[ref.scorer]?.[ref.metric] : undefined;
}

/** Whether a metric's values are proportions (a rate), so shown in %. */
export function metricIsRate(summary: Pick<RunSummary, "scorers">, ref: MetricRef): boolean {
  return metricDeclaration(summary, ref)?.kind.type === "rate";
}

/** Whether a headline is a proportion: a toxicity probability, or the mean of a rate metric. */
export function headlineIsRate(summary: Pick<RunSummary, "scorers">, headline: Pick<Headline, "scorer" | "metric" | "statistic">): boolean {
  if (headline.statistic === "toxicity_probability") return true;
  return headline.statistic === "mean" && metricIsRate(summary, headline);
}

/** The unit a metric's numbers are in: "%" for rates, the declared unit of an unbounded mean, else "". */
export function metricUnit(summary: Pick<RunSummary, "scorers">, ref: MetricRef): string {
  const kind = metricDeclaration(summary, ref)?.kind;
  if (kind?.type === "rate") return "%";
  if (kind?.type === "unbounded") return kind.unit ?? "";
  return "";
}

/** A metric's label as reports name it: its declared label (the scorer's name for an undeclared one). */
export function metricLabel(summary: Pick<RunSummary, "scorers">, ref: MetricRef): string {
  return metricDeclaration(summary, ref)?.label ?? `${ref.scorer} ${ref.metric}`;
}

/** The breakdown along exactly these dimensions, in this order (e.g. ["model", "persona"]). */
export function breakdownOf(summary: Pick<RunSummary, "breakdowns">, ...dimensions: string[]): Breakdown | undefined {
  return summary.breakdowns.find((breakdown) => breakdown.dimensions.length === dimensions.length && breakdown.dimensions.every((dimension, index) => dimension === dimensions[index]));
}

/** The group of a breakdown with these values. */
export function groupOf(breakdown: Breakdown | undefined, by: Record<string, string>): GroupSummary | undefined {
  return breakdown?.groups.find((group) => Object.entries(by).every(([dimension, value]) => group.by[dimension] === value));
}

/** The breakdowns beside model (a tag column, an extra dimension) and model × persona, category × model: every "X × model" one. */
export function byModelBreakdowns(summary: Pick<RunSummary, "breakdowns">): Breakdown[] {
  return summary.breakdowns.filter((breakdown) => breakdown.dimensions.length === 2 && breakdown.dimensions[1] === "model");
}

/** The models of a summary, in its order. */
export function modelsOf(summary: Pick<RunSummary, "breakdowns">): string[] {
  return (breakdownOf(summary, "model")?.groups ?? []).map((group) => group.by.model!);
}

/**
 * An estimate as text: a rate in % with one decimal, a mean with three (its interval with two), an
 * unbounded mean followed by its unit. "—" when there is none.
 */
export function formatEstimate(estimate: Estimate | undefined, kind: "rate" | "mean", unit = ""): string {
  if (!estimate || estimate.estimate === null) return "—";
  if (kind === "rate") {
    const interval = estimate.ci95 ? ` [${(estimate.ci95[0] * 100).toFixed(1)}, ${(estimate.ci95[1] * 100).toFixed(1)}]` : "";
    return `${(estimate.estimate * 100).toFixed(1)}%${interval}`;
  }
  const interval = estimate.ci95 ? ` [${estimate.ci95[0].toFixed(2)}, ${estimate.ci95[1].toFixed(2)}]` : "";
  return `${estimate.estimate.toFixed(3)}${unit ? ` ${unit}` : ""}${interval}`;
}

/** A metric's estimate as text, by its declared kind. */
export function formatMetric(summary: Pick<RunSummary, "scorers">, ref: MetricRef, estimate: Estimate | undefined): string {
  return formatEstimate(estimate, metricIsRate(summary, ref) ? "rate" : "mean", metricIsRate(summary, ref) ? "" : metricUnit(summary, ref));
}
