import { UserError } from "../../errors.js";
import { nearest } from "../../config/suggest.js";
import { boldGaps } from "./bold-gaps.js";
import { lcWinrate } from "./lc-winrate.js";
import type { SuiteMetric, SuiteMetricReference } from "./types.js";
import { bbqBias } from "./bbq-bias.js";
import { alignxScore } from "./alignx-score.js";
import { driftArs } from "./drift-ars.js";
import { driftFidelityDsi } from "./drift-text.js";

export type { SuiteMetric, SuiteMetricAccumulator, SuiteMetricGroup, SuiteMetricReference } from "./types.js";

/** The built-in suite metrics: one line each; each is one file in this folder. */
const BUILTIN: SuiteMetric[] = [bbqBias, boldGaps, alignxScore, driftArs, lcWinrate, driftFidelityDsi];

const SUITE_METRICS = new Map<string, SuiteMetric>(BUILTIN.map((metric) => [metric.declaration.name, metric]));

/** Adds a suite metric by its declared name (a built-in one here, or a plug-in's). */
export function registerSuiteMetric(metric: SuiteMetric): void {
  SUITE_METRICS.set(metric.declaration.name, metric);
}

export function suiteMetricNames(): string[] {
  return [...SUITE_METRICS.keys()];
}

/** The suite metric a suite names, or a clear error with the nearest name. */
export function suiteMetricNamed(name: string): SuiteMetric {
  const metric = SUITE_METRICS.get(name);
  if (metric) return metric;
  const near = nearest(name, suiteMetricNames());
  const known = suiteMetricNames();
  throw new UserError(`unknown suite metric "${name}"${near ? ` (did you mean "${near}"?)` : ""}; suite metrics: ${known.length > 0 ? known.join(", ") : "(none registered)"}`);
}

/** A reference's name and options. */
export function readReference(reference: SuiteMetricReference): { name: string; options: Record<string, unknown> } {
  return typeof reference === "string" ? { name: reference, options: {} } : { name: reference.name, options: reference.options ?? {} };
}
