import { primaryMetricOf, type MetricRef } from "../metrics/outcome.js";
import { runDeclarations } from "../metrics/declarations.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import type { Manifest } from "./manifest.js";

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
