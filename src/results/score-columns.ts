import type { RowScore } from "./record.js";
import type { ScoreColumn, ScorerDeclaration } from "../scorers/types.js";

// A scorer may declare top-level result columns for fields of its score (the verdict judge's
// attack_success, judge_json…). Those fields are then written once, in their columns: the `scores` JSON
// column leaves them out (`scoresWithoutDeclared`), and a reader of results.parquet puts them back
// (`scoresWithDeclared`). The two are each other's inverse, and tested as such.

/** Reads a declared column's field of a score. */
export function scoreField(score: RowScore | undefined, from: ScoreColumn["from"]): unknown {
  if (!score) return null;
  if (from.startsWith("metrics.")) return score.metrics?.[from.slice("metrics.".length)] ?? null;
  return (score as unknown as Record<string, unknown>)[from] ?? null;
}

/** The score fields and metrics each declaration's columns hold, worked out once per declaration. */
const held = new WeakMap<ScorerDeclaration, { fields: Set<string>; metrics: Set<string> }>();

function heldBy(declaration: ScorerDeclaration): { fields: Set<string>; metrics: Set<string> } {
  let entry = held.get(declaration);
  if (!entry) {
    entry = { fields: new Set(), metrics: new Set() };
    for (const { from } of Object.values(declaration.columns ?? {})) {
      if (from.startsWith("metrics.")) entry.metrics.add(from.slice("metrics.".length));
      else entry.fields.add(from);
    }
    held.set(declaration, entry);
  }
  return entry;
}

/** The scores as the `scores` JSON column holds them: without the fields declared columns hold. */
export function scoresWithoutDeclared(scores: Record<string, RowScore> | null, declarations: readonly ScorerDeclaration[]): Record<string, Partial<RowScore>> | null {
  if (!scores) return null;
  let out: Record<string, Partial<RowScore>> | undefined;
  for (const declaration of declarations) {
    const score = scores[declaration.name];
    if (!score || !declaration.columns) continue;
    // Copied key by key rather than copied and then deleted from: this runs on every row of a run.
    const { fields, metrics } = heldBy(declaration);
    const rest: Record<string, unknown> = {};
    for (const field in score) {
      if (fields.has(field)) continue;
      if (field === "metrics" && score.metrics) {
        let kept: Record<string, number | null> | undefined;
        for (const metric in score.metrics) {
          if (metrics.has(metric)) continue;
          kept ??= {};
          kept[metric] = score.metrics[metric]!;
        }
        if (kept) rest.metrics = kept;
        continue;
      }
      rest[field] = (score as unknown as Record<string, unknown>)[field];
    }
    out ??= { ...scores };
    out[declaration.name] = rest as Partial<RowScore>;
  }
  return out ?? scores;
}

/** A results.parquet row's scores with the declared columns' fields put back (the inverse of the above). */
export function scoresWithDeclared(scores: Record<string, Partial<RowScore>> | null, row: Record<string, unknown>, declarations: readonly ScorerDeclaration[]): Record<string, RowScore> | null {
  let out = scores as Record<string, RowScore> | null;
  for (const declaration of declarations) {
    if (!declaration.columns || !out?.[declaration.name]) continue;
    const score: Record<string, unknown> = { ...out[declaration.name] };
    for (const [column, { from, type }] of Object.entries(declaration.columns)) {
      if (!(column in row)) continue;
      let value = row[column] ?? null;
      if (type === "BOOLEAN" && value !== null) value = value === true ? 1 : 0;
      if (from.startsWith("metrics.")) score.metrics = { ...(score.metrics as Record<string, number | null> | undefined), [from.slice("metrics.".length)]: value as number | null };
      else score[from] = value;
    }
    out = { ...out, [declaration.name]: score as unknown as RowScore };
  }
  return out;
}
