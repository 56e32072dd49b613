import type { Texts } from "../results/column-file.js";
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { naturalRanks } from "../common/natural-order.js";
import { findDeclaration, outcomeOfValue, type Outcome } from "../metrics/outcome.js";
import { latencySummary, type UsageEntry } from "../metrics/usage.js";
import { transcriptOf } from "../reports/report-item.js";
import type { RunLens } from "../reports/run-lens.js";
import type { ResultRow, RowScore } from "../results/record.js";
import { upgradeRow } from "../results/row-upgrade.js";
import { scoresWithDeclared } from "../results/score-columns.js";
import type { CodedColumn } from "../results/columns.js";
import { OUTCOMES, outcomeCode, parseJson, type ScorerColumns } from "../results/item-columns.js";
import { loadItemColumns } from "../results/item-index-file.js";
import { ResultColumns } from "../results/result-columns.js";
import { folderFiles } from "../results/run-folder.js";
import { FacetColumns, listed, type FacetValues } from "./facet-columns.js";
import { facetPredicate, hasFacetFilters } from "./facet-predicate.js";
import type { FacetFilters } from "./item-filters.js";
import { RowTexts } from "./row-texts.js";

/** The filters and order of an item-table query (the facet filters: subcategory, epoch, tags, scorers' values). */
export interface ItemQuery extends FacetFilters {
  model?: string;
  persona?: string;
  category?: string;
  status?: "ok" | "error";
  /** The primary metric's outcome by its declared direction; "none": not scored. */
  outcome?: Outcome | "none";
  severityMin?: number;
  severityMax?: number;
  text?: string;
  sort?: "severity" | "key" | "model" | "persona" | "category" | "test_id";
  order?: "asc" | "desc";
  offset?: number;
  limit?: number;
}

/** A row of the item table: its coordinates, position in the file, outcome, each scorer's value and label, and text snippets. */
export interface ItemRowSummary {
  index: number;
  key: string;
  test_id: string;
  model: string;
  persona: string;
  category: string;
  epoch: number;
  status: string;
  outcome: Outcome | null;
  severity: number | null;
  /** Each declared scorer's primary value and label, and the value's outcome by the scorer's declared direction. */
  scores: Record<string, { value: number | null; label: string | null; outcome: Outcome | null }>;
  prompt: string;
  response: string;
  /** Whether the response was cut to the snippet's length. */
  response_truncated: boolean;
}

/** What the filter bar offers beyond models, personas and categories: each dimension's values, each scorer's labels and range. */
export interface FilterFacets {
  subcategories: FacetValues;
  epochs: number[];
  tags: Record<string, FacetValues>;
  scores: Record<string, { labels: FacetValues; min: number | null; max: number | null }>;
}

const SNIPPET = 240;

/**
 * An index over a run's results.parquet for the viewer's item table: filters and sorts in memory, then
 * reads only the page's texts from the file. Reloads when the file changes. It reads the file of any
 * version: the scorers' values from their flattened `scores.*` columns, else from the `scores` JSON, and a
 * 0.1 file's verdict from its `attack_success` columns.
 */
export class ItemIndex {
  private constructor(
    private readonly file: string,
    readonly mtimeMs: number,
    private readonly buffer: AsyncBuffer,
    /** The footer's metadata of the columns read after opening (texts, facets): from items.index, or the whole footer. */
    private readonly metadata: FileMetaData,
    /** The whole footer, parsed the first time a whole row is read (when items.index gave only part of it). */
    private fullMetadata: Promise<FileMetaData> | undefined,
    readonly size: number,
    readonly lens: RunLens,
    private readonly keys: Texts,
    private readonly testIds: Texts,
    private readonly coded: { model: CodedColumn; persona: CodedColumn; category: CodedColumn; status: CodedColumn },
    private readonly epochs: Float64Array,
    private readonly scorers: Map<string, ScorerColumns>,
    /** How bad on [0, 1] by the primary metric (NaN: not scored, no direction or no range). */
    private readonly severity: Float64Array,
    /** The primary metric's outcome, coded by OUTCOMES. */
    private readonly outcome: Int8Array,
    /** How the worst rank (see worstRank): severity of bad rows, or a directed unbounded value; NaN otherwise. */
    private readonly rank: Float64Array,
    /** Per row: input and output tokens and latency of the model call (NaN where absent), for usage figures. */
    private readonly usage: { input: Float32Array; output: Float32Array; latency: Float32Array },
    readonly facets: { models: string[]; personas: string[]; categories: string[] },
  ) {
    this.rowTexts = new RowTexts(buffer, metadata);
  }

  /** The prompts and responses of the file's rows, read a row group at a time. */
  private readonly rowTexts: RowTexts;

  /** `lens`: the run's scorer declarations and primary metric (see runLens). */
  static async load(file: string, lens: RunLens): Promise<ItemIndex> {
    const mtimeMs = statSync(file).mtimeMs;
    const buffer = await asyncBufferFromFile(file);
    // The columns stored beside the file when the run finalised, when they match it; else read from it.
    const { columns, stored, metadata, full } = await loadItemColumns({ parquet: file, itemIndex: folderFiles(dirname(file)).itemIndex }, lens, buffer);
    const { size, keys, testIds, coded, epochs, scorers, severity, outcome, rank, usage, facets } = columns;
    const index = new ItemIndex(
      file,
      mtimeMs,
      buffer,
      metadata,
      full ? Promise.resolve(metadata) : undefined,
      size,
      lens,
      keys,
      testIds,
      coded,
      epochs,
      scorers,
      severity,
      outcome,
      rank,
      usage,
      facets,
    );
    index.stored = stored;
    index.orders = columns.orders;
    return index;
  }

  /** The rows sorted by key and by test id (see ItemColumns). */
  private orders!: { key: Int32Array; test_id: Int32Array };

  /** Whether the columns came from items.index (true) or were read from results.parquet. */
  stored = false;

  isStale(): boolean {
    try {
      return statSync(this.file).mtimeMs !== this.mtimeMs;
    } catch {
      return true;
    }
  }

  /** The primary metric's outcome of a row. */
  outcomeOf(row: number): Outcome | null {
    return OUTCOMES[this.outcome[row]!] ?? null;
  }

  /** The subcategory and tag columns, read the first time a filter, a page or the filter bar needs them. */
  facetColumns(): Promise<FacetColumns> {
    this.facetsLoading ??= FacetColumns.read(this.buffer, this.metadata);
    return this.facetsLoading;
  }
  private facetsLoading: Promise<FacetColumns> | undefined;

  /** The rows a query's filters keep, in file order. */
  async matchingRows(query: ItemQuery): Promise<number[]> {
    const { model, persona, category, status } = this.coded;
    // Filters compare dictionary codes: an unknown value matches nothing (code -2).
    const want = {
      model: query.model === undefined ? undefined : model.codeOf(query.model),
      persona: query.persona === undefined ? undefined : persona.codeOf(query.persona),
      category: query.category === undefined ? undefined : category.codeOf(query.category),
      status: query.status === undefined ? undefined : status.codeOf(query.status),
      outcome: query.outcome === undefined ? undefined : outcomeCode(query.outcome === "none" ? null : query.outcome),
    };
    const textMatches = query.text ? await this.rowTexts.searchText(query.text) : undefined;
    const facets = hasFacetFilters(query) ? facetPredicate(query, { facets: await this.facetColumns(), epochs: this.epochs, scorers: this.scorers }) : undefined;
    const matches: number[] = [];
    for (let index = 0; index < this.size; index++) {
      if (want.model !== undefined && model.codes[index] !== want.model) continue;
      if (want.persona !== undefined && persona.codes[index] !== want.persona) continue;
      if (want.category !== undefined && category.codes[index] !== want.category) continue;
      if (want.status !== undefined && status.codes[index] !== want.status) continue;
      if (want.outcome !== undefined && this.outcome[index] !== want.outcome) continue;
      const severity = this.severity[index]!;
      if (query.severityMin !== undefined && !(severity >= query.severityMin)) continue;
      if (query.severityMax !== undefined && !(severity <= query.severityMax)) continue;
      if (textMatches && !textMatches.has(index)) continue;
      if (facets && !facets(index)) continue;
      matches.push(index);
    }
    return matches;
  }

  /**
   * The rows a query's filters keep, in its order (every match, no page). The last answer is kept: paging
   * through a table, stepping through its items and exporting it ask the same filters and order again.
   */
  async ordered(query: ItemQuery): Promise<readonly number[]> {
    const { offset: _offset, limit: _limit, ...filtersAndOrder } = query;
    const key = JSON.stringify(filtersAndOrder);
    if (this.lastOrdered?.key === key) return this.lastOrdered.rows;
    const rows = this.sortedRows(query);
    this.lastOrdered = { key, rows };
    // A failed query (a text search whose file read failed) is not kept: the next ask tries again.
    rows.catch(() => {
      if (this.lastOrdered?.rows === rows) this.lastOrdered = undefined;
    });
    return rows;
  }
  private lastOrdered: { key: string; rows: Promise<readonly number[]> } | undefined;

  private async sortedRows(query: ItemQuery): Promise<number[]> {
    const matches = await this.matchingRows(query);
    const direction = query.order === "desc" ? -1 : 1;
    const sort = query.sort ?? "key";
    if (sort === "severity") {
      // Unscored rows (NaN) last in either direction.
      matches.sort((a, b) => {
        const x = this.severity[a]!;
        const y = this.severity[b]!;
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
        return (x - y) * direction || a - b;
      });
    } else if (sort === "key" || sort === "test_id") {
      return inOrder(this.orders[sort], sort === "key" ? this.keys : this.testIds, matches, direction);
    } else {
      // A dictionary column: rank its few distinct values once, then compare numbers (no value: first).
      const column = this.coded[sort];
      const valueRanks = naturalRanks(column.values);
      const rank = (row: number) => (column.codes[row]! < 0 ? -1 : valueRanks[column.codes[row]!]!);
      matches.sort((a, b) => (rank(a) - rank(b)) * direction || a - b);
    }
    return matches;
  }

  async query(query: ItemQuery): Promise<{ total: number; rows: ItemRowSummary[] }> {
    const matches = await this.ordered(query);
    const offset = query.offset ?? 0;
    const page = matches.slice(offset, offset + Math.min(query.limit ?? 50, 500));
    return { total: matches.length, rows: await this.summaries(page) };
  }

  /**
   * Every row matching the query's filters, in its order, as summaries with whole prompts and responses
   * (an export), a batch at a time so a large run's texts are never all in memory. Offset and limit are ignored.
   */
  async *allMatching(query: ItemQuery, batch = 2_000): AsyncGenerator<ItemRowSummary[]> {
    const matches = await this.ordered(query);
    for (let start = 0; start < matches.length; start += batch) yield await this.summaries(matches.slice(start, start + batch), Number.POSITIVE_INFINITY);
  }

  /**
   * Where a row stands in a query's order, and the rows before and after it (null at either end), so the
   * item page steps through the table it was opened from. Position null: the row does not match the query.
   */
  async neighbours(index: number, query: ItemQuery): Promise<{ position: number | null; total: number; previous: number | null; next: number | null }> {
    const matches = await this.ordered(query);
    const at = matches.indexOf(index);
    if (at < 0) return { position: null, total: matches.length, previous: null, next: matches[0] ?? null };
    return { position: at, total: matches.length, previous: at > 0 ? matches[at - 1]! : null, next: at + 1 < matches.length ? matches[at + 1]! : null };
  }

  /** Some rows as the item table and the grid show them, their texts cut to `snippet` characters. */
  async summaries(rows: number[], snippet = SNIPPET): Promise<ItemRowSummary[]> {
    const { model, persona, category, status } = this.coded;
    const texts = await this.rowTexts.texts(rows);
    const facets = await this.facetColumns();
    const primaryIsValue = this.lens.primary && findDeclaration(this.lens.scorers, this.lens.primary.scorer)?.metrics[0].name === this.lens.primary.metric;
    return rows.map((index) => {
      const text = texts.get(index) ?? { prompt: "", response: "" };
      const tags = facets.tagsOf(index);
      const scores: ItemRowSummary["scores"] = {};
      for (const [name, columns] of this.scorers) {
        const value = Number.isNaN(columns.value[index]!) ? null : columns.value[index]!;
        const metric = findDeclaration(this.lens.scorers, name)?.metrics[0];
        // The primary scorer's outcome is the row's (the same as the outcome filter's); the others' from their own direction.
        const outcome = primaryIsValue && name === this.lens.primary!.scorer ? this.outcomeOf(index) : value === null || !metric ? null : outcomeOfValue(value, metric, tags);
        scores[name] = { value, label: columns.label.get(index), outcome };
      }
      return {
        index,
        key: this.keys.at(index)!,
        test_id: this.testIds.at(index)!,
        model: model.get(index) ?? "",
        persona: persona.get(index) ?? "",
        category: category.get(index) ?? "",
        epoch: this.epochs[index]!,
        status: status.get(index) ?? "",
        outcome: this.outcomeOf(index),
        severity: Number.isNaN(this.severity[index]!) ? null : this.severity[index]!,
        scores,
        prompt: text.prompt.slice(0, snippet),
        response: text.response.slice(0, snippet),
        response_truncated: text.response.length > snippet,
      };
    });
  }

  /** The values each filter can take, computed once. */
  async filterFacets(): Promise<FilterFacets> {
    if (this.filterFacetsMemo) return this.filterFacetsMemo;
    const { subcategories, tags } = (await this.facetColumns()).values();
    const epochs = new Set<number>();
    for (let row = 0; row < this.size; row++) epochs.add(this.epochs[row]!);
    const scores: FilterFacets["scores"] = {};
    for (const [name, columns] of this.scorers) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const value of columns.value) {
        if (value < min) min = value;
        if (value > max) max = value;
      }
      scores[name] = { labels: listed(columns.label), min: min <= max ? min : null, max: min <= max ? max : null };
    }
    this.filterFacetsMemo = { subcategories, epochs: [...epochs].filter((epoch) => !Number.isNaN(epoch)).sort((a, b) => a - b), tags, scores };
    return this.filterFacetsMemo;
  }
  private filterFacetsMemo: FilterFacets | undefined;

  /** Each row's place in a side-by-side grid: its test, epoch, model and persona (codes) and category. */
  get coordinates(): { testIds: Texts; epochs: Float64Array; model: CodedColumn; persona: CodedColumn; category: CodedColumn } {
    return { testIds: this.testIds, epochs: this.epochs, model: this.coded.model, persona: this.coded.persona, category: this.coded.category };
  }

  /** Severity per model (histogram) and the share above a threshold per category and per persona. */
  severityStats(
    threshold: number,
    bins: number,
    binOf: (value: number) => number,
  ): {
    histogram: Array<{ model: string; counts: number[] }>;
    above: Record<"category" | "persona", Array<{ group: string; model: string; n: number; above: number }>>;
  } {
    const { model, category, persona } = this.coded;
    const histogram = new Map<number, number[]>();
    const above = { category: new Map<string, { n: number; above: number }>(), persona: new Map<string, { n: number; above: number }>() };
    for (let row = 0; row < this.size; row++) {
      const value = this.severity[row]!;
      if (Number.isNaN(value)) continue;
      const modelCode = model.codes[row]!;
      let counts = histogram.get(modelCode);
      if (!counts) histogram.set(modelCode, (counts = new Array<number>(bins).fill(0)));
      counts[binOf(value)]!++;
      for (const [kind, column] of [
        ["category", category],
        ["persona", persona],
      ] as const) {
        const id = `${column.codes[row]}:${modelCode}`;
        const entry = above[kind].get(id) ?? { n: 0, above: 0 };
        entry.n++;
        if (value > threshold) entry.above++;
        above[kind].set(id, entry);
      }
    }
    const shares = (kind: "category" | "persona", column: CodedColumn) =>
      [...above[kind]].map(([id, entry]) => {
        const [group, modelCode] = id.split(":").map(Number) as [number, number];
        return { group: column.values[group] ?? "", model: model.values[modelCode] ?? "", ...entry };
      });
    return {
      histogram: [...histogram].map(([code, counts]) => ({ model: model.values[code] ?? "", counts })),
      above: { category: shares("category", category), persona: shares("persona", persona) },
    };
  }

  /** The target's calls, tokens and latency percentiles per model (for a summary.json that does not count usage). */
  usageByModel(): UsageEntry[] {
    const out = new Map<number, { calls: number; input: number; output: number; latencies: number[] }>();
    for (let row = 0; row < this.size; row++) {
      const latency = this.usage.latency[row]!;
      if (Number.isNaN(latency)) continue;
      const code = this.coded.model.codes[row]!;
      const entry = out.get(code) ?? { calls: 0, input: 0, output: 0, latencies: [] };
      entry.calls++;
      entry.input += this.usage.input[row]! || 0;
      entry.output += this.usage.output[row]! || 0;
      entry.latencies.push(latency);
      out.set(code, entry);
    }
    return [...out].map(([code, entry]) => ({
      model: this.coded.model.values[code] ?? "",
      role: "target",
      scorer: null,
      calls: entry.calls,
      input_tokens: entry.input,
      output_tokens: entry.output,
      latency_ms: latencySummary(entry.latencies),
    }));
  }

  /** The worst rows first: those whose primary outcome is bad by its declared direction, by severity (ties: file order). */
  worstRows(count: number): number[] {
    const ranked: number[] = [];
    for (let row = 0; row < this.size; row++) if (!Number.isNaN(this.rank[row]!)) ranked.push(row);
    return ranked.sort((a, b) => this.rank[b]! - this.rank[a]! || a - b).slice(0, count);
  }

  errorRows(count: number): number[] {
    const code = this.coded.status.codeOf("error");
    const rows: number[] = [];
    for (let row = 0; row < this.size && rows.length < count; row++) if (this.coded.status.codes[row] === code) rows.push(row);
    return rows;
  }

  /**
   * One whole row, every column, with the JSON columns parsed, in the current row format (a 0.1 row's
   * verdict becomes its `verdict` score and its response its transcript; its flat columns stay too).
   */
  async row(index: number): Promise<Record<string, unknown> | undefined> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return undefined;
    // A finished run's row, from partials.jsonl where state.sqlite says it is: no parsing of the whole
    // Parquet footer (and holding it) for one row.
    const folder = dirname(this.file);
    // Imported here: it reads rows with their schema check, which opening a run does not need.
    const { parquetIsCurrent, readLatestRows } = await import("../results/latest-rows.js");
    const stored = parquetIsCurrent(folder)
      ? readLatestRows(folder, [this.keys.at(index)!])
          ?.values()
          .next().value
      : undefined;
    if (stored) {
      // The scorers' declared columns too (judge_raw, attack_success…), as results.parquet has them.
      const out: Record<string, unknown> = { ...stored };
      for (const column of new ResultColumns().columns(this.lens.scorers)) {
        if (Object.hasOwn(out, column.name)) continue;
        const value = column.get(stored);
        out[column.name] = column.type === "JSON" && typeof value === "string" ? parseJson(value) : value;
      }
      return Object.assign(out, { transcript: transcriptOf(stored), index, outcome: this.outcomeOf(index), severity: Number.isNaN(this.severity[index]!) ? null : this.severity[index]! });
    }
    this.fullMetadata ??= parquetMetadataAsync(this.buffer);
    const [row] = (await parquetReadObjects({ file: this.buffer, metadata: await this.fullMetadata, rowStart: index, rowEnd: index + 1, compressors })) as Array<Record<string, unknown>>;
    if (!row) return undefined;
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      if (name.includes(".")) continue; // flattened copies of the nested columns
      out[name] = typeof value === "bigint" ? Number(value) : value;
    }
    for (const name of ["messages", "scores", "judge_json", "usage", "judge_usage", "generation", "tags", "item_metadata", "item_judge_schema", "dimensions", "transcript"]) {
      if (typeof out[name] === "string") out[name] = parseJson(out[name] as string);
    }
    if (typeof out.schema_version === "number" && out.schema_version < 2) Object.assign(out, upgradeRow({ ...out } as unknown as ResultRow));
    // The scores column leaves out what declared columns (attack_success, judge_json…) hold: put it back.
    else out.scores = scoresWithDeclared(out.scores as Record<string, Partial<RowScore>> | null, out, this.lens.scorers);
    out.transcript = transcriptOf(out as unknown as ResultRow);
    out.index = index;
    out.outcome = this.outcomeOf(index);
    out.severity = Number.isNaN(this.severity[index]!) ? null : this.severity[index]!;
    return out;
  }
}

/**
 * `matches` in the order of `order` (rows sorted by `texts`, ties in row order), descending when
 * `direction` is -1 with ties still in row order: one pass over the order instead of a sort.
 */
function inOrder(order: Int32Array, texts: Texts, matches: number[], direction: number): number[] {
  const wanted = new Uint8Array(order.length);
  for (const row of matches) wanted[row] = 1;
  const out: number[] = [];
  if (direction === 1) {
    for (const row of order) if (wanted[row]) out.push(row);
    return out;
  }
  for (let end = order.length; end > 0; ) {
    let start = end - 1;
    while (start > 0 && texts.at(order[start - 1]!) === texts.at(order[end - 1]!)) start--;
    for (let at = start; at < end; at++) if (wanted[order[at]!]) out.push(order[at]!);
    end = start;
  }
  return out;
}
