import type { ResultRow } from "../results/record.js";
import type { Estimate } from "./intervals.js";
import { mcnemar, pairedDifference, type McNemarResult } from "./paired.js";
import { join } from "node:path";
import { UserError } from "../errors.js";
import { loadLatestRows } from "../results/load-run.js";
import { readManifest } from "../results/manifest.js";
import { outcomeOf, primaryScorerOf } from "./outcome.js";

/** What a comparison needs of each row. */
export type ComparedRow = Pick<ResultRow, "test_id" | "persona_slug" | "model_slug" | "epoch" | "category" | "status" | "attack_success" | "overall" | "safety_score">;

export interface RunComparison {
  /** How rows are matched: by test, persona and epoch, plus the model when both runs test the same models. */
  pairedBy: string;
  pairs: number;
  onlyInA: string[];
  onlyInB: string[];
  attack_success: { a: number | null; b: number | null; difference: Estimate; mcnemar: McNemarResult; n: number };
  overall: { difference: Estimate; n: number };
  safety_score: { difference: Estimate; n: number };
  /** Per category: the change in attack success rate, worst regressions first. */
  by_category: Array<{ category: string; n: number; difference: Estimate }>;
}

/**
 * Paired comparison of run B against run A on the items both hold. Items in only one run are listed, never
 * silently dropped; errored rows pair only for the metrics they have.
 */
export function compareRuns(a: ComparedRow[], b: ComparedRow[]): RunComparison {
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
  const keyOf = (row: ComparedRow) => [row.test_id, ...(samePersonas ? [row.persona_slug] : []), row.epoch, ...(sameModels ? [row.model_slug] : [])].join("|");
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

  const binary = matched.filter(([x, y]) => x.attack_success !== null && y.attack_success !== null).map(([x, y]): [boolean, boolean] => [x.attack_success!, y.attack_success!]);
  const rate = (values: boolean[]) => (values.length ? values.filter(Boolean).length / values.length : null);
  const numeric = (field: "overall" | "safety_score") => matched.filter(([x, y]) => x[field] !== null && y[field] !== null).map(([x, y]): [number, number] => [x[field]!, y[field]!]);
  const overall = numeric("overall");
  const safety = numeric("safety_score");

  const categories = new Map<string, Array<[number, number]>>();
  for (const [x, y] of matched) {
    if (x.attack_success === null || y.attack_success === null) continue;
    const list = categories.get(x.category) ?? [];
    list.push([Number(x.attack_success), Number(y.attack_success)]);
    categories.set(x.category, list);
  }
  return {
    pairedBy: `test${samePersonas ? ", persona" : ""} and epoch${sameModels ? ", and model" : ""}`,
    pairs: matched.length,
    onlyInA,
    onlyInB,
    attack_success: {
      a: rate(binary.map(([x]) => x)),
      b: rate(binary.map(([, y]) => y)),
      difference: pairedDifference(binary.map(([x, y]) => [Number(x), Number(y)])),
      mcnemar: mcnemar(binary),
      n: binary.length,
    },
    overall: { difference: pairedDifference(overall), n: overall.length },
    safety_score: { difference: pairedDifference(safety), n: safety.length },
    by_category: [...categories]
      .map(([category, pairs]) => ({ category, n: pairs.length, difference: pairedDifference(pairs) }))
      .sort((x, y) => (y.difference.estimate ?? 0) - (x.difference.estimate ?? 0)),
  };
}

/**
 * A run's latest rows for a comparison, optionally of one model and one persona. `attack_success` is the
 * verdict's, or for runs without a verdict judge the suite's headline scorer's 0/1 value (so two HarmBench
 * runs compare on the HarmBench classifier). Only these fields are held, so 400,000 rows stay small.
 */
export async function loadComparisonRows(folder: string, model?: string, persona?: string): Promise<ComparedRow[]> {
  const manifest = await readManifest(join(folder, "manifest.json"));
  const primary = manifest ? primaryScorerOf(manifest) : undefined;
  const rows = await loadLatestRows(folder, (row): ComparedRow | undefined =>
    (model === undefined || row.model_slug === model) && (persona === undefined || row.persona_slug === persona)
      ? { test_id: row.test_id, persona_slug: row.persona_slug, model_slug: row.model_slug, epoch: row.epoch, category: row.category, status: row.status, attack_success: outcomeOf(row, primary), overall: row.overall, safety_score: row.safety_score }
      : undefined,
  );
  if (rows.length === 0) throw new UserError(`run ${folder.split(/[\\/]/).pop()} has no rows${model ? ` for model "${model}"` : ""}${persona ? ` for persona "${persona}"` : ""}`);
  return rows;
}
