import { naturalCompare } from "../common/natural-order.js";
import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { findDeclaration, outcomeOf, severityOf, type Outcome } from "../metrics/outcome.js";
import type { RunLens } from "./run-lens.js";
import type { ScoreColumn } from "../scorers/types.js";
import { CodedColumn, readColumns, type ColumnKind } from "./columns.js";
import type { Texts } from "./column-file.js";

/** A row's outcome is coded as its index here. */
export const OUTCOMES: Array<Outcome | null> = [null, "good", "bad", "neutral"];
export const outcomeCode = (outcome: Outcome | null): number => OUTCOMES.indexOf(outcome);

/** One scorer's values on every row: its primary value (NaN: none) and label. */
export interface ScorerColumns {
  value: Float64Array;
  label: CodedColumn;
}

/** What an item index holds of each row of a run's results.parquet, column by column. */
export interface ItemColumns {
  size: number;
  keys: Texts;
  testIds: Texts;
  coded: { model: CodedColumn; persona: CodedColumn; category: CodedColumn; status: CodedColumn };
  epochs: Float64Array;
  scorers: Map<string, ScorerColumns>;
  /** How bad on [0, 1] by the primary metric (NaN: not scored, no direction or no range). */
  severity: Float64Array;
  /** The primary metric's outcome, coded by OUTCOMES. */
  outcome: Int8Array;
  /** How the worst rank (see worstRank): severity of bad rows, or a directed unbounded value; NaN otherwise. */
  rank: Float64Array;
  /** Per row: input and output tokens and latency of the model call (NaN where absent), for usage figures. */
  /** Float32: token counts are exact to 16 million, and latencies are summed for display. */
  usage: { input: Float32Array; output: Float32Array; latency: Float32Array };
  facets: { models: string[]; personas: string[]; categories: string[] };
  /** The rows sorted by key and by test id (ties in file order), so a sorted page needs no sort. */
  orders: { key: Int32Array; test_id: Int32Array };
}

/**
 * Reads the columns an item index filters and sorts on from a results.parquet of any version: the scorers'
 * values from their flattened `scores.*` columns, else from the `scores` JSON, and a 0.1 file's verdict from
 * its `attack_success` columns; then each row's primary outcome, severity and worst rank.
 * `lens`: the run's scorer declarations and primary metric (see runLens).
 */
export async function readItemColumns(buffer: AsyncBuffer, metadata: FileMetaData, lens: RunLens): Promise<ItemColumns> {
  const names = new Set(metadata.schema.slice(1).map((element) => element.name));
  const kinds: Record<string, ColumnKind> = { key: "text", test_id: "text", model_slug: "coded", persona_slug: "coded", category: "coded", status: "coded", epoch: "number" };
  for (const name of ["usage.input_tokens", "usage.output_tokens", "latency_ms"]) if (names.has(name)) kinds[name] = "number";
  const primary = lens.primary;
  const primaryDeclaration = primary ? findDeclaration(lens.scorers, primary.scorer) : undefined;
  const primaryMetric = primaryDeclaration?.metrics.find((metric) => metric.name === primary!.metric);
  const primaryIsValue = primaryDeclaration !== undefined && primaryMetric?.name === primaryDeclaration.metrics[0].name;
  // Where each scorer's numbers are: its flattened columns, the columns it declares (the verdict's
  // attack_success, in 0.1 files too), or the scores JSON.
  const flattened = (scorer: string) => names.has(`scores.${scorer}.value`);
  const declaredColumn = (scorer: string, from: string): [string, ScoreColumn] | undefined => {
    const entry = Object.entries(findDeclaration(lens.scorers, scorer)?.columns ?? {}).find(([, column]) => column.from === from);
    return entry && names.has(entry[0]) ? entry : undefined;
  };
  const valueColumn = (scorer: string) => (flattened(scorer) ? undefined : declaredColumn(scorer, "value"));
  let needScoresJson = false;
  for (const { name } of lens.scorers) {
    const declared = valueColumn(name);
    if (flattened(name)) kinds[`scores.${name}.value`] = "number";
    else if (declared) kinds[declared[0]] = declared[1].type === "BOOLEAN" ? "boolean" : "number";
    else if (names.has("scores")) needScoresJson = true;
    if ((flattened(name) || declared) && names.has(`scores.${name}.label`)) kinds[`scores.${name}.label`] = "coded";
  }
  const primaryColumn = primary && !primaryIsValue ? (declaredColumn(primary.scorer, `metrics.${primary.metric}`)?.[0] ?? `scores.${primary.scorer}.metrics.${primary.metric}`) : undefined;
  if (primaryColumn && names.has(primaryColumn)) kinds[primaryColumn] = "number";
  else if (primaryColumn && names.has("scores")) needScoresJson = true;
  // A primary yes/no graded by another metric (the verdict's safety score): its column, declared or flattened.
  const severityName = primaryIsValue ? primaryDeclaration?.severity : undefined;
  const declaredSeverity = severityName ? declaredColumn(primary!.scorer, `metrics.${severityName}`)?.[0] : undefined;
  const severityColumn = declaredSeverity
    ? declaredSeverity
    : severityName && names.has(`scores.${primary!.scorer}.metrics.${severityName}`)
      ? `scores.${primary!.scorer}.metrics.${severityName}`
      : undefined;
  if (severityColumn) kinds[severityColumn] = "number";
  const tag = primaryMetric && typeof primaryMetric.bad === "object" ? primaryMetric.bad.tag : undefined;
  const tagColumn = tag && names.has(`tags.${tag}`) ? `tags.${tag}` : undefined;
  if (tagColumn) kinds[tagColumn] = "coded";
  const needTagsJson = tag !== undefined && !tagColumn && names.has("tags");
  if (needScoresJson) kinds.scores = "text";
  if (needTagsJson) kinds.tags = "text";
  const { size, columns } = await readColumns(buffer, metadata, kinds);

  const scorers = new Map<string, ScorerColumns>();
  for (const { name } of lens.scorers) {
    if (flattened(name)) {
      scorers.set(name, { value: columns[`scores.${name}.value`] as Float64Array, label: (columns[`scores.${name}.label`] as CodedColumn | undefined) ?? new CodedColumn(size) });
    } else if (valueColumn(name)) {
      const [column, declared] = valueColumn(name)!;
      const value = new Float64Array(size);
      if (declared.type === "BOOLEAN") {
        const flags = columns[column] as Int8Array;
        for (let row = 0; row < size; row++) value[row] = flags[row] === -1 ? Number.NaN : flags[row]!;
      } else value.set(columns[column] as Float64Array);
      // The label column, or (0.1 files have none) the labels the scorer declares for its values.
      let label = columns[`scores.${name}.label`] as CodedColumn | undefined;
      const valueLabels = findDeclaration(lens.scorers, name)?.value_labels;
      if (!label) {
        label = new CodedColumn(size);
        if (valueLabels) for (let row = 0; row < size; row++) if (!Number.isNaN(value[row]!)) label.set(row, valueLabels[String(value[row])] ?? null);
      }
      scorers.set(name, { value, label });
    } else scorers.set(name, { value: new Float64Array(size).fill(Number.NaN), label: new CodedColumn(size) });
  }
  const primaryValues = primaryColumn ? ((columns[primaryColumn] as Float64Array | undefined) ?? new Float64Array(size).fill(Number.NaN)) : undefined;
  const tags = tagColumn ? (columns[tagColumn] as CodedColumn) : undefined;
  const jsonTags = needTagsJson ? (columns.tags as string[]) : undefined;
  const jsonScores = needScoresJson ? (columns.scores as string[]) : undefined;
  if (jsonScores) {
    for (let row = 0; row < size; row++) {
      const parsed = parseJson(jsonScores[row]) as Record<string, { value?: unknown; label?: unknown; metrics?: Record<string, unknown> }> | null;
      if (!parsed) continue;
      for (const [name, target] of scorers) {
        if (flattened(name) || valueColumn(name)) continue;
        const score = parsed[name];
        if (!score) continue;
        if (typeof score.value === "number") target.value[row] = score.value;
        if (typeof score.label === "string") target.label.set(row, score.label);
      }
      if (primaryValues && primary && primaryColumn && !names.has(primaryColumn)) {
        const value = parsed[primary.scorer]?.metrics?.[primary.metric];
        if (typeof value === "number") primaryValues[row] = value;
      }
    }
  }

  const severityValues = severityColumn ? (columns[severityColumn] as Float64Array | undefined) : undefined;
  const severity = new Float64Array(size).fill(Number.NaN);
  const outcome = new Int8Array(size);
  const rank = new Float64Array(size).fill(Number.NaN);
  const primaryScorer = primary ? scorers.get(primary.scorer) : undefined;
  const unboundedDirection = primaryMetric?.kind.type === "unbounded" && typeof primaryMetric.bad === "string" && primaryMetric.bad !== "none" ? primaryMetric.bad : undefined;
  for (let row = 0; row < size; row++) {
    if (!primary || !primaryScorer || !primaryDeclaration) continue;
    const value = primaryIsValue ? primaryScorer.value[row]! : primaryValues![row]!;
    if (Number.isNaN(value)) {
      outcome[row] = outcomeCode(null);
      continue;
    }
    const rowTags = tags ? tagsOf(tag!, tags.get(row)) : jsonTags ? (parseJson(jsonTags[row]) as Record<string, string> | null) : null;
    const graded = severityValues?.[row];
    const primaryScore = primaryIsValue
      ? graded !== undefined && !Number.isNaN(graded)
        ? { value, metrics: { [severityName!]: graded } }
        : { value }
      : { value: null, metrics: { [primary.metric]: value } };
    const inputs = { scores: { [primary.scorer]: primaryScore }, tags: rowTags };
    const result = outcomeOf(inputs, lens.scorers, primary);
    outcome[row] = outcomeCode(result);
    const bad = severityOf(inputs, lens.scorers, primary);
    if (bad !== null) severity[row] = bad;
    if (result === "bad" && bad !== null) rank[row] = bad;
    else if (unboundedDirection) rank[row] = unboundedDirection === "high" ? value : -value;
  }
  const coded = { model: columns.model_slug as CodedColumn, persona: columns.persona_slug as CodedColumn, category: columns.category as CodedColumn, status: columns.status as CodedColumn };
  const facets = { models: [...coded.model.values].sort(), personas: [...coded.persona.values].sort(), categories: [...coded.category.values].sort() };
  const numbers = (name: string) => Float32Array.from((columns[name] as Float64Array | undefined) ?? new Float64Array(size).fill(Number.NaN));
  const usage = { input: numbers("usage.input_tokens"), output: numbers("usage.output_tokens"), latency: numbers("latency_ms") };
  const keys = columns.key as string[];
  const testIds = columns.test_id as string[];
  const orders = { key: textOrder(keys), test_id: textOrder(testIds) };
  return { size, keys, testIds, coded, epochs: columns.epoch as Float64Array, scorers, severity, outcome, rank, usage, facets, orders };
}

/** Row numbers sorted by their text in natural order (numbers as numbers: "item-2" before "item-10"), ties in row order. */
function textOrder(texts: string[]): Int32Array {
  const order = new Int32Array(texts.length);
  for (let row = 0; row < texts.length; row++) order[row] = row;
  return order.sort((a, b) => naturalCompare(texts[a]!, texts[b]!) || a - b);
}

/** JSON.parse, with null for an empty or malformed text. */
export function parseJson(text: string | null | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A row's tags as far as the primary metric's direction reads them. */
function tagsOf(tag: string, value: string | null): Record<string, string> | null {
  return value === null ? null : { [tag]: value };
}

/**
 * The rows' keys as their coordinates spell them (test|persona|model|epoch, record.ts's key), when every
 * row's key is exactly that: the item index then stores no key text (a fifth of its size on a large run).
 */
export class DerivedKeys implements Texts {
  constructor(private readonly columns: Pick<ItemColumns, "testIds" | "coded" | "epochs" | "size">) {}

  get length(): number {
    return this.columns.size;
  }

  at(index: number): string | undefined {
    if (!(index >= 0 && index < this.columns.size)) return undefined;
    const { testIds, coded, epochs } = this.columns;
    return `${testIds.at(index)}|${coded.persona.get(index)}|${coded.model.get(index)}|${epochs[index]}`;
  }

  /** Whether `keys` are the derived ones, row by row. */
  static match(columns: Pick<ItemColumns, "keys" | "testIds" | "coded" | "epochs" | "size">): boolean {
    const derived = new DerivedKeys(columns);
    for (let row = 0; row < columns.size; row++) if (columns.keys.at(row) !== derived.at(row)) return false;
    return true;
  }
}
