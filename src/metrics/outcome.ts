import type { BadDirection, MetricDeclaration, MetricKind, ScorerDeclaration } from "../scorers/types.js";

// What a row's scores mean, read from the scorers' declarations alone: which value of a metric is bad
// (for this row: a direction may depend on the row's tags), how bad on [0, 1], and the metric a run is
// judged by first. Pure and type-only in its imports, so the runner, reports, viewer and browser share it.

/** A row's result for one metric: bad or good by the metric's direction, neutral when it has none (or no threshold). */
export type Outcome = "bad" | "good" | "neutral";

/** One metric of one scorer. */
export interface MetricRef {
  scorer: string;
  metric: string;
}

/** A score's numbers, as outcome and the summary read them. */
export interface ScoreValues {
  value: number | null;
  metrics?: Record<string, number | null> | undefined;
}

/** What outcome and severity read of a row: its scores and its tags (for per-tag directions). */
export interface OutcomeInputs {
  scores: Record<string, ScoreValues> | null;
  tags: Record<string, string> | null;
}

/**
 * The declaration of a scorer by name. A named scoring's scorer (`NAME/scorer`, a rejudge's scores beside
 * the run's) takes its scorer's declaration under the full name.
 */
export function findDeclaration(scorers: readonly ScorerDeclaration[], name: string): ScorerDeclaration | undefined {
  const exact = scorers.find((declaration) => declaration.name === name);
  if (exact) return exact;
  const slash = name.lastIndexOf("/");
  if (slash < 0) return undefined;
  const base = scorers.find((declaration) => declaration.name === name.slice(slash + 1));
  return base ? { ...base, name } : undefined;
}

/** The name an undeclared scorer's primary metric gets. */
export const UNDECLARED_METRIC = "value";

/**
 * What is assumed of a scorer nobody declared (a name in old rows, a plug-in gone missing): means on an
 * open scale, with no direction, so nothing is clipped and no row is called bad.
 */
export function undeclaredScorer(name: string, metrics: readonly string[] = []): ScorerDeclaration {
  const metric = (metricName: string, label: string): MetricDeclaration => ({ name: metricName, label, kind: { type: "unbounded" }, bad: "none" });
  return {
    name,
    description: `${name} (undeclared: read as a mean on an open scale)`,
    metrics: [metric(UNDECLARED_METRIC, name), ...metrics.filter((other) => other !== UNDECLARED_METRIC).map((other) => metric(other, `${name} ${other}`))],
  };
}

export function findMetric(scorers: readonly ScorerDeclaration[], ref: MetricRef): MetricDeclaration | undefined {
  return findDeclaration(scorers, ref.scorer)?.metrics.find((metric) => metric.name === ref.metric);
}

/** A metric's value in a score: the primary metric is `value`, the others `metrics[name]`. Null when absent or not finite. */
export function metricValue(score: ScoreValues, declaration: ScorerDeclaration, metric: string): number | null {
  const value = metric === declaration.metrics[0].name ? score.value : score.metrics?.[metric];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Which way is bad for a row: a per-tag direction reads the row's tag (unknown or missing: none). */
export function directionFor(bad: BadDirection, tags: Record<string, string> | null | undefined): "high" | "low" | "none" {
  if (typeof bad === "string") return bad;
  const value = tags?.[bad.tag];
  if (value === undefined) return "none";
  if (bad.high?.includes(value)) return "high";
  if (bad.low?.includes(value)) return "low";
  return "none";
}

/** The values a metric can take: [0, 1] for a rate, the declared range for a bounded mean, none for an unbounded one. */
export function rangeOf(kind: MetricKind): [number, number] | null {
  if (kind.type === "rate") return [0, 1];
  if (kind.type === "bounded") return kind.range;
  return null;
}

/**
 * How bad a value is, on [0, 1] (1 = the worst the metric can be): its position in the metric's range,
 * counted from the good end. Null when the metric has no direction for this row or no range.
 */
export function badnessOf(value: number, metric: MetricDeclaration, tags: Record<string, string> | null | undefined): number | null {
  const direction = directionFor(metric.bad, tags);
  const range = rangeOf(metric.kind);
  if (direction === "none" || !range || range[1] <= range[0]) return null;
  const position = Math.min(1, Math.max(0, (value - range[0]) / (range[1] - range[0])));
  return direction === "high" ? position : 1 - position;
}

/**
 * A value's outcome: a rate's 1 (or 0) is bad when its direction says so; a bounded mean is bad from
 * halfway towards its bad end; an unbounded mean has no threshold, so it is neutral.
 */
export function outcomeOfValue(value: number, metric: MetricDeclaration, tags: Record<string, string> | null | undefined): Outcome {
  if (metric.kind.type === "unbounded") return "neutral";
  const badness = badnessOf(value, metric, tags);
  if (badness === null) return "neutral";
  return badness >= 0.5 ? "bad" : "good";
}

/** A row's outcome for a metric; null when the row has no value for it. */
export function outcomeOf(row: OutcomeInputs, scorers: readonly ScorerDeclaration[], ref: MetricRef): Outcome | null {
  const declaration = findDeclaration(scorers, ref.scorer);
  const metric = declaration?.metrics.find((entry) => entry.name === ref.metric);
  const score = row.scores?.[ref.scorer];
  if (!declaration || !metric || !score) return null;
  const value = metricValue(score, declaration, ref.metric);
  return value === null ? null : outcomeOfValue(value, metric, row.tags);
}

/**
 * How bad a response is, on [0, 1] (1 = worst): the badness of the run's primary metric (see
 * `primaryMetricOf`) normalised by its range. Null when the row has no value for it, or the metric has no
 * direction for this row (XSTest without its label) or no range (an unbounded mean).
 */
export function severityOf(row: OutcomeInputs, scorers: readonly ScorerDeclaration[], ref: MetricRef | undefined): number | null {
  if (!ref) return null;
  const declaration = findDeclaration(scorers, ref.scorer);
  const metric = declaration?.metrics.find((entry) => entry.name === ref.metric);
  const score = row.scores?.[ref.scorer];
  if (!declaration || !metric || !score) return null;
  // A scorer may grade its primary outcome with another metric (the verdict: 1 − safety score).
  const graded = ref.metric === declaration.metrics[0].name && declaration.severity ? declaration.metrics.find((entry) => entry.name === declaration.severity) : undefined;
  const gradedValue = graded ? metricValue(score, declaration, graded.name) : null;
  if (graded && gradedValue !== null) return badnessOf(gradedValue, graded, row.tags);
  const value = metricValue(score, declaration, ref.metric);
  return value === null ? null : badnessOf(value, metric, row.tags);
}

/** A headline as far as the primary metric goes. */
export interface HeadlineRef {
  scorer: string;
  metric?: string | undefined;
}

/**
 * The metric a run is judged by first: the first headline's (of a declared scorer), else the primary metric
 * of the first declared scorer with a direction, else of the first scorer. Undefined without scorers.
 */
export function primaryMetricOf(scorers: readonly ScorerDeclaration[], headlines: readonly HeadlineRef[] = []): MetricRef | undefined {
  for (const headline of headlines) {
    const declaration = findDeclaration(scorers, headline.scorer);
    if (!declaration) continue;
    const metric = headline.metric && declaration.metrics.some((entry) => entry.name === headline.metric) ? headline.metric : declaration.metrics[0].name;
    return { scorer: headline.scorer, metric };
  }
  const directed = scorers.find((declaration) => declaration.metrics[0].bad !== "none") ?? scorers[0];
  return directed ? { scorer: directed.name, metric: directed.metrics[0].name } : undefined;
}
