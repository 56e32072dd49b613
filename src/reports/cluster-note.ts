import type { RunComparison } from "../metrics/compare-runs.js";
import type { RunSummary } from "../metrics/summary-types.js";

// The footnote that says how clustered intervals were made. It is written only when rows do share a
// cluster, and it names the cluster actually used and the dimensions that repeat it, so a run whose
// repeats came from personas does not read "items repeat across epochs".

function plural(name: string): string {
  return name.endsWith("y") ? `${name.slice(0, -1)}ies` : `${name}s`;
}

/** "a test item across epochs and personas (100 items)", or "a behavior across tests (40 values)". */
export function clusterDescription(clustering: NonNullable<RunSummary["clustering"]>): string {
  const item = clustering.by === "test";
  const across = clustering.repeats.length > 0 ? ` across ${clustering.repeats.map(plural).join(" and ")}` : "";
  return `${item ? "a test item" : `a ${clustering.by}`}${across} (${clustering.clusters} ${item ? "items" : `values of ${clustering.by}`})`;
}

/** The methods behind clustered intervals of these kinds of metric ("rate"; any other kind is a mean). */
export function clusterMethods(kinds: ReadonlySet<string>): string {
  return [
    ...(kinds.has("rate") ? ["rates: Wilson interval on the design-effect-adjusted n (Korn & Graubard)"] : []),
    ...([...kinds].some((kind) => kind !== "rate") ? ["means: cluster-robust (CR1) t interval on clusters − 1 degrees of freedom"] : []),
  ].join("; ");
}

/**
 * The footnote's opening: "Rows repeat a test item across epochs (100 items): intervals clustered by
 * test item". Callers write it only where a clustered estimate exists. A summary written before clusters
 * were described says only how many clusters there are.
 */
export function clusterHeading(summary: Pick<RunSummary, "clustering">, clusters: number): string {
  if (!summary.clustering) return `Rows share clusters (${clusters} of them)`;
  const by = summary.clustering.by === "test" ? "test item" : summary.clustering.by;
  return `Rows repeat ${clusterDescription(summary.clustering)}: intervals clustered by ${by}`;
}

/**
 * What the intervals are clustered by, said only when rows repeat a cluster, naming the cluster used and the
 * dimensions that repeat it (epochs, personas…): otherwise the pairs are independent and there is nothing to say.
 */
export function clusteringNote(comparison: Pick<RunComparison, "pairs" | "clusters" | "clusteredBy" | "repeats">): string | null {
  if (comparison.clusters === 0 || comparison.clusters >= comparison.pairs) return null;
  const unit = comparison.clusteredBy === "item" ? "items" : `values of ${comparison.clusteredBy}`;
  const across = comparison.repeats.length > 0 ? ` across ${comparison.repeats.map(plural).join(" and ")}` : "";
  const cluster = comparison.clusteredBy === "item" ? "item" : comparison.clusteredBy;
  return `Rows repeat ${cluster === "item" ? "an item" : `a ${cluster}`}${across}: intervals are clustered by ${cluster} (CR1 over ${comparison.clusters} ${unit}), and McNemar's test counts each ${cluster} once, by its majority outcome.`;
}
