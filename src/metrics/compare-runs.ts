import { folderFiles } from "../results/run-folder.js";
import { UserError } from "../errors.js";
import { loadLatestRows } from "../results/load-run.js";
import { readManifest } from "../results/manifest.js";
import type { ResultRow } from "../results/record.js";
import type { BadDirection, MetricKind, ScorerDeclaration } from "../scorers/types.js";
import { runDeclarations } from "./declarations.js";
import type { Estimate } from "./intervals.js";
import { findDeclaration, metricValue, primaryMetricOf, type MetricRef, type ScoreValues } from "./outcome.js";
import { mcnemar, pairedDifference, type McNemarResult } from "./paired.js";
import { studentTCdf } from "./t-distribution.js";

/** What a comparison needs of each row: its coordinates and its scores' numbers. */
export interface ComparedRow extends Pick<ResultRow, "test_id" | "persona_slug" | "model_slug" | "epoch" | "category" | "status"> {
  /** The row's dimensions beyond test, persona, model and epoch (strategy…) are part of the match. */
  dimensions?: Record<string, string | number> | undefined;
  scores: Record<string, ScoreValues> | null;
}

/** One side of a comparison: a run's rows, what its scorers measure, and the metric it is read by first. */
export interface ComparisonRun {
  rows: ComparedRow[];
  scorers: ScorerDeclaration[];
  /** Default: the first shared scorer's primary metric. */
  primary?: MetricRef | undefined;
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
  /** B − A, with a t interval over the per-pair differences. */
  difference: Estimate;
  /** Rates: McNemar's test; means: the paired t test. */
  test: ({ name: "McNemar" } & McNemarResult) | { name: "paired t"; pValue: number | null };
}

export interface RunComparison {
  /** How rows are matched: by test, persona and epoch, plus the model when both runs test the same models. */
  pairedBy: string;
  pairs: number;
  onlyInA: string[];
  onlyInB: string[];
  /** Every metric of every scorer both runs have, in A's declaration order. */
  metrics: MetricComparison[];
  /** The metric `by_category` follows. */
  primary: MetricRef | null;
  /** Per category: the change in the primary metric, worst regressions first (by its declared direction). */
  by_category: Array<{ category: string; n: number; difference: Estimate }>;
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

  const scorers = sharedScorers(runA.scorers, runB.scorers);
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
      const differences: Array<[number, number]> = pairs.map(([x, y]) => [x, y]);
      const average = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null);
      const difference = pairedDifference(differences);
      const test: MetricComparison["test"] =
        metric.kind.type === "rate" ? { name: "McNemar", ...mcnemar(pairs.map(([x, y]): [boolean, boolean] => [x === 1, y === 1])) } : { name: "paired t", pValue: pairedTPValue(difference) };
      metrics.push({ ...ref, label: metric.label, kind: metric.kind, bad: metric.bad, n: pairs.length, a: average(pairs.map(([x]) => x)), b: average(pairs.map(([, y]) => y)), difference, test });
    }
  }

  const primaryRef = runA.primary && metrics.some((entry) => entry.scorer === runA.primary!.scorer && entry.metric === runA.primary!.metric) ? runA.primary : (primaryMetricOf(scorers) ?? null);
  const primary = primaryRef ? metrics.find((entry) => entry.scorer === primaryRef.scorer && entry.metric === primaryRef.metric) : undefined;
  const categories = new Map<string, Array<[number, number]>>();
  if (primary) {
    for (const [x, y, row] of pairsOf(primary)) {
      const list = categories.get(row.category) ?? [];
      list.push([x, y]);
      categories.set(row.category, list);
    }
  }
  // A regression is a move towards the metric's bad end: up for "high", down for "low" (else: up first).
  const sign = primary?.bad === "low" ? -1 : 1;
  return {
    pairedBy: `test${samePersonas ? ", persona" : ""} and epoch${sameModels ? ", and model" : ""}`,
    pairs: matched.length,
    onlyInA,
    onlyInB,
    metrics,
    primary: primary ? { scorer: primary.scorer, metric: primary.metric } : null,
    by_category: [...categories]
      .map(([category, pairs]) => ({ category, n: pairs.length, difference: pairedDifference(pairs) }))
      .sort((x, y) => sign * ((y.difference.estimate ?? 0) - (x.difference.estimate ?? 0))),
  };
}

/** Two-sided p-value of the paired t test on the mean difference; null below two pairs or with no spread. */
function pairedTPValue(difference: Estimate): number | null {
  if (difference.estimate === null || difference.stderr === null || difference.n < 2) return null;
  if (difference.stderr === 0) return difference.estimate === 0 ? 1 : 0;
  const t = Math.abs(difference.estimate / difference.stderr);
  return Math.min(1, 2 * (1 - studentTCdf(t, difference.n - 1)));
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
          scores: row.scores
            ? Object.fromEntries(Object.entries(row.scores).map(([name, score]) => [name, score.metrics ? { value: score.value, metrics: score.metrics } : { value: score.value }]))
            : null,
        }
      : undefined,
  );
  if (rows.length === 0) throw new UserError(`run ${folder.split(/[\\/]/).pop()} has no rows${model ? ` for model "${model}"` : ""}${persona ? ` for persona "${persona}"` : ""}`);
  return { rows, scorers, primary: headlines.length > 0 ? primaryMetricOf(scorers, headlines) : undefined };
}
