import { folderFiles } from "../results/run-folder.js";
import { UserError } from "../errors.js";
import { loadLatestRows } from "../results/load-run.js";
import { readManifest } from "../results/manifest.js";
import type { ResultRow } from "../results/record.js";
import type { BadDirection, MetricKind, ScorerDeclaration } from "../scorers/types.js";
import { ClusterRepeats } from "./cluster-repeats.js";
import { runDeclarations } from "./declarations.js";
import type { Estimate } from "./intervals.js";
import { findDeclaration, metricValue, primaryMetricOf, rangeOf, type MetricRef, type ScoreValues } from "./outcome.js";
import { mcnemarByItem, pairedDifference, type McNemarResult } from "./paired.js";
import { studentTCdf } from "./t-distribution.js";

/** What a comparison needs of each row: its coordinates and its scores' numbers. */
export interface ComparedRow extends Pick<ResultRow, "test_id" | "persona_slug" | "model_slug" | "epoch" | "category" | "status"> {
  /** The row's dimensions beyond test, persona, model and epoch (strategy…) are part of the match. */
  dimensions?: Record<string, string | number> | undefined;
  scores: Record<string, ScoreValues> | null;
  /** The row's cluster when the run clusters by a column (`cluster_by`, e.g. the behaviour); default its test item. */
  cluster?: string | undefined;
}

/** One side of a comparison: a run's rows, what its scorers measure, and the metric it is read by first. */
export interface ComparisonRun {
  rows: ComparedRow[];
  scorers: ScorerDeclaration[];
  /** Default: the first shared scorer's primary metric. */
  primary?: MetricRef | undefined;
  /** The column the run clusters by (its `cluster_by`), when not the test item. */
  clusterBy?: string | undefined;
}

/** One metric of one scorer, B against A over the pairs where both have a value. */
export interface MetricComparison extends MetricRef {
  label: string;
  kind: MetricKind;
  bad: BadDirection;
  /** Pairs with a value on both sides. */
  n: number;
  /** The rate or mean of each side over those pairs. */
  a: number | null;
  b: number | null;
  /** B − A, with a cluster-robust t interval over the per-pair differences (clusters: the items they come from). */
  difference: Estimate & { clusters: number };
  /** Rates: McNemar's test on items (each item's majority outcome); means: the paired t test on the clustered difference. */
  test: ({ name: "McNemar" } & McNemarResult & { items: number; tied: number }) | { name: "paired t"; pValue: number | null };
}

export interface RunComparison {
  /** How rows are matched: by test, persona and epoch, plus the model when both runs test the same models. */
  pairedBy: string;
  pairs: number;
  /** What pairs are clustered by: "item" (the test), or the run's `cluster_by` column. */
  clusteredBy: string;
  /** How many clusters the pairs fall in, and the dimensions that vary inside one (epoch, persona, model…): empty when no item repeats. */
  clusters: number;
  repeats: string[];
  onlyInA: string[];
  onlyInB: string[];
  /** Every metric of every scorer both runs have, in A's declaration order. */
  metrics: MetricComparison[];
  /** The metric `by_category` follows. */
  primary: MetricRef | null;
  /** Per category: the change in the primary metric, worst regressions first (by its declared direction). */
  by_category: Array<{ category: string; n: number; difference: Estimate & { clusters: number } }>;
}

/** The declarations of the scorers both runs have (A's, in A's order; a named scoring matches its scorer). */
export function sharedScorers(a: ScorerDeclaration[], b: ScorerDeclaration[]): ScorerDeclaration[] {
  return a.filter((declaration) => findDeclaration(b, declaration.name) !== undefined);
}

/**
 * Paired comparison of run B against run A on the items both hold, for every metric both runs' scorers
 * declare. Items in only one run are listed, never silently dropped; errored rows pair only for the
 * metrics they have.
 */
export function compareRuns(runA: ComparisonRun, runB: ComparisonRun): RunComparison {
  const a = runA.rows;
  const b = runB.rows;
  // Models (and personas) are part of the match when both runs hold the same set; one against one is
  // compared across (model X vs model Y, persona P vs persona Q); anything else needs a choice.
  const matchOn = (field: "model_slug" | "persona_slug", what: string): boolean => {
    const left = new Set(a.map((row) => row[field]));
    const right = new Set(b.map((row) => row[field]));
    const same = left.size === right.size && [...left].every((value) => right.has(value));
    if (!same && (left.size > 1 || right.size > 1)) {
      throw new RangeError(`the runs hold different sets of ${what} (${[...left].join(", ")} vs ${[...right].join(", ")}); choose one from each to compare`);
    }
    return same;
  };
  const sameModels = matchOn("model_slug", "models");
  const samePersonas = matchOn("persona_slug", "personas");
  const base = new Set(["test", "persona", "model", "epoch"]);
  const extra = (row: ComparedRow) =>
    Object.entries(row.dimensions ?? {})
      .filter(([name]) => !base.has(name))
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([, value]) => value);
  const keyOf = (row: ComparedRow) => [row.test_id, ...(samePersonas ? [row.persona_slug] : []), row.epoch, ...(sameModels ? [row.model_slug] : []), ...extra(row)].join("|");
  const indexB = new Map(b.map((row) => [keyOf(row), row]));
  const keysA = new Set(a.map(keyOf));
  const matched: Array<[ComparedRow, ComparedRow]> = [];
  const onlyInA: string[] = [];
  for (const row of a) {
    const other = indexB.get(keyOf(row));
    if (other) matched.push([row, other]);
    else onlyInA.push(keyOf(row));
  }
  const onlyInB = b.map(keyOf).filter((key) => !keysA.has(key));
  const clusterOf = (row: ComparedRow) => row.cluster ?? row.test_id;
  const repeats = repeatedDimensions(
    matched.map(([row]) => row),
    clusterOf,
    runA.clusterBy !== undefined,
  );

  const scorers = sharedScorers(runA.scorers, runB.scorers);
  /** Pairs with a value on both sides: A's value, B's, and A's row. */
  const pairsOf = (ref: MetricRef): Array<[number, number, ComparedRow]> => {
    const declarationA = findDeclaration(runA.scorers, ref.scorer)!;
    const declarationB = findDeclaration(runB.scorers, ref.scorer)!;
    const out: Array<[number, number, ComparedRow]> = [];
    for (const [x, y] of matched) {
      const scoreX = x.scores?.[ref.scorer];
      const scoreY = y.scores?.[ref.scorer];
      if (!scoreX || !scoreY) continue;
      const valueX = metricValue(scoreX, declarationA, ref.metric);
      const valueY = metricValue(scoreY, declarationB, ref.metric);
      if (valueX !== null && valueY !== null) out.push([valueX, valueY, x]);
    }
    return out;
  };
  const metrics: MetricComparison[] = [];
  for (const scorer of scorers) {
    const other = findDeclaration(runB.scorers, scorer.name)!;
    for (const metric of scorer.metrics) {
      if (!other.metrics.some((entry) => entry.name === metric.name)) continue;
      const ref = { scorer: scorer.name, metric: metric.name };
      const pairs = pairsOf(ref);
      const clusters = pairs.map(([, , row]) => clusterOf(row));
      const average = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null);
      const difference = pairedDifference(pairs, differenceOptions(metric.kind, clusters));
      // The test follows the declared kind, never the values: a bounded score that happens to be 0/1 gets the t test.
      const test: MetricComparison["test"] =
        metric.kind.type === "rate"
          ? {
              name: "McNemar",
              ...mcnemarByItem(
                pairs.map(([x, y]): [boolean, boolean] => [x === 1, y === 1]),
                clusters,
              ),
            }
          : { name: "paired t", pValue: pairedTPValue(difference) };
      metrics.push({ ...ref, label: metric.label, kind: metric.kind, bad: metric.bad, n: pairs.length, a: average(pairs.map(([x]) => x)), b: average(pairs.map(([, y]) => y)), difference, test });
    }
  }

  const primaryRef = runA.primary && metrics.some((entry) => entry.scorer === runA.primary!.scorer && entry.metric === runA.primary!.metric) ? runA.primary : (primaryMetricOf(scorers) ?? null);
  const primary = primaryRef ? metrics.find((entry) => entry.scorer === primaryRef.scorer && entry.metric === primaryRef.metric) : undefined;
  const categories = new Map<string, { pairs: Array<[number, number]>; clusters: string[] }>();
  if (primary) {
    for (const [x, y, row] of pairsOf(primary)) {
      let entry = categories.get(row.category);
      if (!entry) categories.set(row.category, (entry = { pairs: [], clusters: [] }));
      entry.pairs.push([x, y]);
      entry.clusters.push(clusterOf(row));
    }
  }
  // A regression is a move towards the metric's bad end: up for "high", down for "low" (else: up first).
  const sign = primary?.bad === "low" ? -1 : 1;
  return {
    pairedBy: `test${samePersonas ? ", persona" : ""} and epoch${sameModels ? ", and model" : ""}`,
    pairs: matched.length,
    clusteredBy: runA.clusterBy ?? "item",
    clusters: new Set(matched.map(([row]) => clusterOf(row))).size,
    repeats,
    onlyInA,
    onlyInB,
    metrics,
    primary: primary ? { scorer: primary.scorer, metric: primary.metric } : null,
    by_category: [...categories]
      .map(([category, { pairs, clusters }]) => ({ category, n: pairs.length, difference: pairedDifference(pairs, differenceOptions(primary!.kind, clusters)) }))
      .sort((x, y) => sign * ((y.difference.estimate ?? 0) - (x.difference.estimate ?? 0))),
  };
}

/** How a metric's paired difference is bounded and clustered, from its declared kind. */
function differenceOptions(kind: MetricKind, clusters: string[]): Parameters<typeof pairedDifference>[1] {
  const range = rangeOf(kind);
  return { clusters, span: range ? range[1] - range[0] : undefined, rate: kind.type === "rate" };
}

/** The dimensions that vary among the rows of one cluster (see ClusterRepeats). */
function repeatedDimensions(rows: ComparedRow[], clusterOf: (row: ComparedRow) => string, byColumn: boolean): string[] {
  const extra = [...new Set(rows.flatMap((row) => Object.keys(row.dimensions ?? {})))].filter((name) => !["test", "persona", "model", "epoch"].includes(name)).sort();
  const dimensions = [...(byColumn ? ["test"] : []), "epoch", "persona", "model", ...extra];
  const tracker = new ClusterRepeats(dimensions);
  const index = new Map<string, number>();
  for (const row of rows) {
    const label = clusterOf(row);
    let cluster = index.get(label);
    if (cluster === undefined) index.set(label, (cluster = index.size));
    const own: Record<string, string | number> = { test: row.test_id, epoch: row.epoch, persona: row.persona_slug, model: row.model_slug };
    tracker.add(
      cluster,
      dimensions.map((name) => own[name] ?? row.dimensions?.[name]),
    );
  }
  return tracker.repeats();
}

/** Two-sided p-value of the paired t test on the mean difference, on G − 1 degrees of freedom; null below two clusters or with no spread. */
function pairedTPValue(difference: Estimate & { clusters: number }): number | null {
  if (difference.estimate === null || difference.stderr === null || difference.clusters < 2) return null;
  if (difference.stderr === 0) return difference.estimate === 0 ? 1 : 0;
  const t = Math.abs(difference.estimate / difference.stderr);
  return Math.min(1, Math.max(0, 2 * (1 - studentTCdf(t, difference.clusters - 1))));
}

/**
 * A run's latest rows for a comparison, optionally of one model and one persona, with its scorers'
 * declarations (its manifest's, or for a 0.1 folder those of the scorers it names) and its primary metric
 * (its first headline's). Only scores' numbers are held, so 400,000 rows stay small.
 */
export async function loadComparisonRows(folder: string, model?: string, persona?: string): Promise<ComparisonRun> {
  const manifest = await readManifest(folderFiles(folder).manifest);
  const scorers = manifest ? runDeclarations(manifest) : [];
  const headlines = (manifest?.config.headlines as Array<{ scorer: string; metric?: string }> | undefined) ?? [];
  const clusterBy = manifest?.config.cluster_by as string | undefined;
  const rows = await loadLatestRows(folder, (row): ComparedRow | undefined =>
    (model === undefined || row.model_slug === model) && (persona === undefined || row.persona_slug === persona)
      ? {
          test_id: row.test_id,
          persona_slug: row.persona_slug,
          model_slug: row.model_slug,
          epoch: row.epoch,
          category: row.category,
          status: row.status,
          dimensions: row.dimensions,
          cluster: clusterBy ? row.tags?.[clusterBy] : undefined,
          scores: row.scores
            ? Object.fromEntries(Object.entries(row.scores).map(([name, score]) => [name, score.metrics ? { value: score.value, metrics: score.metrics } : { value: score.value }]))
            : null,
        }
      : undefined,
  );
  if (rows.length === 0) throw new UserError(`run ${folder.split(/[\\/]/).pop()} has no rows${model ? ` for model "${model}"` : ""}${persona ? ` for persona "${persona}"` : ""}`);
  return { rows, scorers, primary: headlines.length > 0 ? primaryMetricOf(scorers, headlines) : undefined, clusterBy };
}
