import { findDeclaration } from "../metrics/outcome.js";
import type { RunLens } from "../results/run-lens.js";
import type { PrimaryMetric } from "./report-types.js";

// The lens is read where the run's files are (results/), so that its item index can be built there too.
export { runLens, type RunLens } from "../results/run-lens.js";

/** The primary metric with its declared label. */
export function primaryWithLabel(lens: RunLens): PrimaryMetric | null {
  if (!lens.primary) return null;
  const metric = findDeclaration(lens.scorers, lens.primary.scorer)?.metrics.find((entry) => entry.name === lens.primary!.metric);
  return { ...lens.primary, label: metric?.label ?? lens.primary.metric };
}
