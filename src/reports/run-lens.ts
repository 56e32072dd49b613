import { findDeclaration, primaryMetricOf, type MetricRef } from "../metrics/outcome.js";
import { runDeclarations } from "../metrics/declarations.js";
import type { Manifest } from "../results/manifest.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import type { PrimaryMetric } from "./report-types.js";

/** What a report needs to know of a run to describe its rows: what its scorers measure, and which metric comes first. */
export interface RunLens {
  scorers: readonly ScorerDeclaration[];
  primary: MetricRef | undefined;
}

/** The scorers and primary metric of a run, from its manifest (0.1 folders: the built-in declarations). */
export function runLens(manifest: Manifest): RunLens {
  const scorers = runDeclarations(manifest);
  const headlines = (manifest.config.headlines as Array<{ scorer: string; metric?: string }> | undefined) ?? [];
  return { scorers, primary: primaryMetricOf(scorers, headlines) };
}

/** The primary metric with its declared label. */
export function primaryWithLabel(lens: RunLens): PrimaryMetric | null {
  if (!lens.primary) return null;
  const metric = findDeclaration(lens.scorers, lens.primary.scorer)?.metrics.find((entry) => entry.name === lens.primary!.metric);
  return { ...lens.primary, label: metric?.label ?? lens.primary.metric };
}
