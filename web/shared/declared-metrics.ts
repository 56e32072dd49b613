import type { RunReport } from "../../src/reports/report-types.js";
import type { Breakdown, GroupSummary, MetricSummary } from "../../src/metrics/summary-types.js";
import type { BadDirection, MetricDeclaration } from "../../src/scorers/types.js";
import { findDeclaration, findMetric, type MetricRef } from "../../src/metrics/outcome.js";
import { breakdownOf as summaryBreakdownOf, metricEstimate } from "../../src/reports/metric-kind.js";
import type { ChartScale } from "./charts.js";

// Everything here reads the run's scorer declarations (summary.scorers): what each metric is called, its
// kind (a rate in %, a bounded mean on its range, an unbounded mean with its unit) and which way is bad.
// No scorer is known by name.

export const unique = <T>(values: T[]): T[] => [...new Set(values)];

export type { MetricRef };

// One reading of declarations for the terminal, the reports and the browser: src/metrics/outcome.ts and
// src/reports/metric-kind.ts are pure, so the front end uses them rather than copies.
export const declarationOf = findDeclaration;

export function metricOf(run: RunReport, ref: MetricRef | null | undefined): MetricDeclaration | undefined {
  return ref ? findMetric(run.summary.scorers, ref) : undefined;
}

export function estimateOf(group: Pick<GroupSummary, "scores"> | undefined, ref: MetricRef | null | undefined): MetricSummary | undefined {
  return metricEstimate(group, ref ?? undefined);
}

/** How a metric is charted: rates in % from 0 to 100, bounded means on their range, unbounded ones on their own scale. */
export function chartScale(metric: MetricDeclaration | undefined): ChartScale {
  const bad = metric && typeof metric.bad === "string" ? metric.bad : "none";
  if (!metric || metric.kind.type === "rate") return { scale: 100, unit: "%", min: 0, max: 1, bad: metric ? bad : "high" };
  if (metric.kind.type === "bounded") return { scale: 1, unit: metric.label, min: metric.kind.range[0], max: metric.kind.range[1], bad };
  return { scale: 1, unit: metric.kind.unit ?? "", unbounded: true, bad };
}

/** Which way is bad, in words: "higher is worse", or per tag "higher is worse where label is safe; lower is worse where label is unsafe". */
export function directionText(bad: BadDirection): string {
  if (bad === "high") return "higher is worse";
  if (bad === "low") return "lower is worse";
  if (bad === "none") return "no direction";
  const parts = [
    bad.high?.length ? `higher is worse where ${bad.tag} is ${bad.high.join(" or ")}` : null,
    bad.low?.length ? `lower is worse where ${bad.tag} is ${bad.low.join(" or ")}` : null,
  ].filter((part): part is string => part !== null);
  return parts.join("; ") || "no direction";
}

/** Which values are the bad outcome, in words: for XSTest "1 where label is safe; 0 where label is unsafe". */
export function badWhenText(metric: MetricDeclaration): string {
  const bad = metric.bad;
  if (metric.kind.type !== "rate") return directionText(bad);
  if (bad === "high") return "a 1";
  if (bad === "low") return "a 0";
  if (bad === "none") return "none (no direction)";
  return [bad.high?.length ? `a 1 where ${bad.tag} is ${bad.high.join(" or ")}` : null, bad.low?.length ? `a 0 where ${bad.tag} is ${bad.low.join(" or ")}` : null].filter(Boolean).join("; ");
}

export function breakdownOf(run: RunReport, ...dimensions: string[]): Breakdown | undefined {
  return summaryBreakdownOf(run.summary, ...dimensions);
}

export function modelsOf(run: RunReport): string[] {
  const byModel = breakdownOf(run, "model");
  return byModel ? byModel.groups.map((group) => group.by.model ?? "") : unique(run.summary.headlines.map((headline) => headline.model));
}

/** Each scorer's primary metric, the run's primary metric first; a label two scorers share is prefixed with the later one's name. */
export function scorerMetrics(run: RunReport): Array<MetricRef & { label: string }> {
  const refs = run.summary.scorers.map((scorer) => ({ scorer: scorer.name, metric: scorer.metrics[0].name, label: scorer.metrics[0].label }));
  const primary = run.primary;
  const isPrimary = (ref: MetricRef) => primary !== null && ref.scorer === primary.scorer && ref.metric === primary.metric;
  const ordered = primary ? [{ scorer: primary.scorer, metric: primary.metric, label: primary.label }, ...refs.filter((ref) => !isPrimary(ref))] : refs;
  const seen = new Set<string>();
  return ordered.map((ref) => {
    const label = seen.has(ref.label) ? `${ref.scorer}: ${ref.label}` : ref.label;
    seen.add(ref.label);
    return { ...ref, label };
  });
}
