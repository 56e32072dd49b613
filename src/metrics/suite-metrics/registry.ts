import { NamedRegistry } from "../../common/named-registry.js";
import { boldGaps } from "./bold-gaps.js";
import { lcWinrate } from "./lc-winrate.js";
import type { SuiteMetric, SuiteMetricReference } from "./types.js";
import { bbqBias } from "./bbq-bias.js";
import { alignxScore } from "./alignx-score.js";
import { driftArs } from "./drift-ars.js";
import { driftFidelityDsi } from "./drift-text.js";
import { driftJudgeDsi, driftTaskDsi } from "./drift-dsi.js";
import { redteamAsr } from "./redteam-asr.js";

export type { SuiteMetric, SuiteMetricAccumulator, SuiteMetricGroup, SuiteMetricReference } from "./types.js";

/** The built-in suite metrics: one line each; each is one file in this folder. */
const BUILTIN: SuiteMetric[] = [bbqBias, boldGaps, alignxScore, driftArs, lcWinrate, driftFidelityDsi, driftTaskDsi, driftJudgeDsi, redteamAsr];

const SUITE_METRICS = new NamedRegistry<SuiteMetric>("suite metric", "suite metrics", (metric) => metric.declaration.name, BUILTIN);

/** Adds a suite metric by its declared name (a built-in one here, or a plug-in's). */
export function registerSuiteMetric(metric: SuiteMetric): void {
  SUITE_METRICS.register(metric);
}

export function suiteMetricNames(): string[] {
  return SUITE_METRICS.names();
}

/** The suite metric a suite names, or a clear error with the nearest name. */
export function suiteMetricNamed(name: string): SuiteMetric {
  return SUITE_METRICS.named(name);
}

/** A reference's name and options. */
export function readReference(reference: SuiteMetricReference): { name: string; options: Record<string, unknown> } {
  return typeof reference === "string" ? { name: reference, options: {} } : { name: reference.name, options: reference.options ?? {} };
}
