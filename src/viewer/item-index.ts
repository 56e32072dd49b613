import { statSync } from "node:fs";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { ReportItem } from "../reports/report-data.js";
import { outcomeOf, severityOf } from "../metrics/outcome.js";
import { CodedColumn, readColumns, type ColumnKind } from "./columns.js";

/** The filters and order of an item-table query. */
export interface ItemQuery {
  model?: string;
  persona?: string;
  category?: string;
  status?: "ok" | "error";
  /** "1": attack succeeded, "0": it did not, "none": not judged. */
  attack?: "1" | "0" | "none";
  severityMin?: number;
  severityMax?: number;
  text?: string;
  sort?: "severity" | "key" | "model" | "persona" | "category" | "test_id";
  order?: "asc" | "desc";
  offset?: number;
  limit?: number;
}

/** A row of the item table: a ReportItem's identifying fields, its position in the file, and text snippets. */
export interface ItemRowSummary extends Pick<ReportItem, "key" | "test_id" | "model" | "persona" | "category" | "epoch" | "attack_success" | "severity" | "prompt"> {
  index: number;
  status: string;
  response: string;
}

// The columns every query reads, held as compact arrays (codes for the few models, personas, categories
// and statuses; typed arrays for numbers). Texts stay in the file and are read per page.
const SNIPPET = 240;

/**
 * An index over a run's results.parquet for the viewer's item table: filters and sorts in memory, then
 * reads only the page's texts from the file. Reloads when the file changes.
 */
export class ItemIndex {
  private constructor(
    private readonly file: string,
    readonly mtimeMs: number,
    private readonly buffer: AsyncBuffer,
    private readonly metadata: FileMetaData,
    readonly size: number,
    private readonly keys: string[],
    private readonly testIds: string[],
    private readonly coded: { model: CodedColumn; persona: CodedColumn; category: CodedColumn; status: CodedColumn },
    private readonly epochs: Float64Array,
    private readonly severity: Float64Array,
    /** The verdict's attack success, else the primary scorer's 0/1 value: 1, 0, or -1 for none. */
    private readonly outcome: Int8Array,
    /** Per row: input and output tokens and latency of the model call (NaN where absent), for usage figures. */
    private readonly usage: { input: Float64Array; output: Float64Array; latency: Float64Array },
    readonly facets: { models: string[]; personas: string[]; categories: string[] },
  ) {}

  /** `primary`: the scorer that severity and the outcome come from when there is no verdict (see severityOf). */
  static async load(file: string, primary?: string): Promise<ItemIndex> {
    const mtimeMs = statSync(file).mtimeMs;
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const names = new Set(metadata.schema.slice(1).map((element) => element.name));
    const scoreColumns = [...names].filter((name) => /^scores\.[^.]+\.value$/.test(name));
    const kinds: Record<string, ColumnKind> = { key: "text", test_id: "text", model_slug: "coded", persona_slug: "coded", category: "coded", status: "coded", epoch: "number", attack_success: "boolean", safety_score: "number" };
    for (const name of scoreColumns) kinds[name] = "number";
    for (const name of ["usage.input_tokens", "usage.output_tokens", "latency_ms"]) if (names.has(name)) kinds[name] = "number";
    const { size, columns } = await readColumns(buffer, metadata, kinds);
    const safety = columns.safety_score as Float64Array;
    const attack = columns.attack_success as Int8Array;
    const severity = new Float64Array(size);
    const outcome = new Int8Array(size);
    const scores: Record<string, { value: number | null }> = {};
    for (let row = 0; row < size; row++) {
      for (const name of scoreColumns) {
        const value = (columns[name] as Float64Array)[row]!;
        scores[name.slice("scores.".length, -".value".length)] = { value: Number.isNaN(value) ? null : value };
      }
      const inputs = { safety_score: Number.isNaN(safety[row]!) ? null : safety[row]!, attack_success: attack[row] === -1 ? null : attack[row] === 1, scores };
      const value = severityOf(inputs, primary);
      severity[row] = value === null ? Number.NaN : value;
      const result = outcomeOf(inputs, primary);
      outcome[row] = result === null ? -1 : result ? 1 : 0;
    }
    const coded = { model: columns.model_slug as CodedColumn, persona: columns.persona_slug as CodedColumn, category: columns.category as CodedColumn, status: columns.status as CodedColumn };
    const facets = { models: [...coded.model.values].sort(), personas: [...coded.persona.values].sort(), categories: [...coded.category.values].sort() };
    const numbers = (name: string) => (columns[name] as Float64Array | undefined) ?? new Float64Array(size).fill(Number.NaN);
    const usage = { input: numbers("usage.input_tokens"), output: numbers("usage.output_tokens"), latency: numbers("latency_ms") };
    return new ItemIndex(file, mtimeMs, buffer, metadata, size, columns.key as string[], columns.test_id as string[], coded, columns.epoch as Float64Array, severity, outcome, usage, facets);
  }


  isStale(): boolean {
    try {
      return statSync(this.file).mtimeMs !== this.mtimeMs;
    } catch {
      return true;
    }
  }

  async query(query: ItemQuery): Promise<{ total: number; rows: ItemRowSummary[] }> {
    const { model, persona, category, status } = this.coded;
    // Filters compare dictionary codes: an unknown value matches nothing (code -2).
    const want = {
      model: query.model === undefined ? undefined : model.codeOf(query.model),
      persona: query.persona === undefined ? undefined : persona.codeOf(query.persona),
      category: query.category === undefined ? undefined : category.codeOf(query.category),
      status: query.status === undefined ? undefined : status.codeOf(query.status),
      outcome: query.attack === undefined ? undefined : query.attack === "none" ? -1 : Number(query.attack),
    };
    const textMatches = query.text ? await this.searchText(query.text) : undefined;
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
      matches.push(index);
    }
    const direction = query.order === "desc" ? -1 : 1;
    const sort = query.sort ?? "key";
    if (sort === "severity") {
      // Unjudged rows (NaN) last in either direction.
      matches.sort((a, b) => {
        const x = this.severity[a]!;
        const y = this.severity[b]!;
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
        return (x - y) * direction || a - b;
      });
    } else {
      const text = sort === "key" ? (row: number) => this.keys[row]! : sort === "test_id" ? (row: number) => this.testIds[row]! : (row: number) => this.coded[sort].get(row) ?? "";
      matches.sort((a, b) => {
        const x = text(a);
        const y = text(b);
        return x < y ? -direction : x > y ? direction : a - b;
      });
    }
    const offset = query.offset ?? 0;
    const page = matches.slice(offset, offset + Math.min(query.limit ?? 50, 500));
    const texts = await this.texts(page);
    return {
      total: matches.length,
      rows: page.map((index) => ({
        index,
        key: this.keys[index]!,
        test_id: this.testIds[index]!,
        model: model.get(index) ?? "",
        persona: persona.get(index) ?? "",
        category: category.get(index) ?? "",
        epoch: this.epochs[index]!,
        status: status.get(index) ?? "",
        attack_success: this.outcome[index] === -1 ? null : this.outcome[index] === 1,
        severity: Number.isNaN(this.severity[index]!) ? null : this.severity[index]!,
        prompt: texts.get(index)?.prompt.slice(0, SNIPPET) ?? "",
        response: texts.get(index)?.response.slice(0, SNIPPET) ?? "",
      })),
    };
  }

  /** Severity per model (histogram) and the share above a threshold per category and per persona. */
  severityStats(threshold: number, bins: number, binOf: (value: number) => number): {
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
      for (const [kind, column] of [["category", category], ["persona", persona]] as const) {
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

  /** Calls, tokens and latency percentiles per model. */
  usageByModel(): Array<{ model: string; calls: number; input: number; output: number; latencies: Float64Array }> {
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
    return [...out].map(([code, entry]) => ({ model: this.coded.model.values[code] ?? "", calls: entry.calls, input: entry.input, output: entry.output, latencies: Float64Array.from(entry.latencies).sort() }));
  }

  /** Rows by descending severity (the worst first), and failed rows, by position. */
  worstRows(count: number): number[] {
    const judged: number[] = [];
    for (let row = 0; row < this.size; row++) if (!Number.isNaN(this.severity[row]!)) judged.push(row);
    return judged.sort((a, b) => this.severity[b]! - this.severity[a]! || a - b).slice(0, count);
  }

  errorRows(count: number): number[] {
    const code = this.coded.status.codeOf("error");
    const rows: number[] = [];
    for (let row = 0; row < this.size && rows.length < count; row++) if (this.coded.status.codes[row] === code) rows.push(row);
    return rows;
  }

  /** One whole row, every column, with the JSON columns parsed. */
  async row(index: number): Promise<Record<string, unknown> | undefined> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return undefined;
    const [row] = (await parquetReadObjects({ file: this.buffer, metadata: this.metadata, rowStart: index, rowEnd: index + 1, compressors })) as Array<Record<string, unknown>>;
    if (!row) return undefined;
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      if (name.includes(".")) continue; // flattened copies of the nested columns
      out[name] = typeof value === "bigint" ? Number(value) : value;
    }
    for (const name of ["messages", "scores", "judge_json", "usage", "judge_usage", "generation", "tags", "item_metadata", "item_judge_schema"]) {
      if (typeof out[name] === "string") out[name] = JSON.parse(out[name] as string);
    }
    out.index = index;
    out.severity = Number.isNaN(this.severity[index]!) ? null : this.severity[index]!;
    return out;
  }

  /** The prompts and responses of some rows, reading each row group they fall in once. */
  private async texts(indices: number[]): Promise<Map<number, RowText>> {
    const out = new Map<number, RowText>();
    for (const group of this.groups) {
      const members = indices.filter((index) => index >= group.start && index < group.end);
      if (members.length === 0) continue;
      const texts = await this.groupTexts(group);
      for (const index of members) out.set(index, texts[index - group.start]!);
    }
    return out;
  }

  private lastSearch: { text: string; rows: Set<number> } | undefined;

  /** Rows whose prompt or response contains the text (case-insensitive), one row group at a time. */
  private async searchText(text: string): Promise<Set<number>> {
    const needle = text.toLowerCase();
    if (this.lastSearch?.text === needle) return this.lastSearch.rows;
    const rows = new Set<number>();
    for (const group of this.groups) {
      (await this.groupTexts(group)).forEach((value, offset) => {
        if (value.response.toLowerCase().includes(needle) || value.prompt.toLowerCase().includes(needle)) rows.add(group.start + offset);
      });
    }
    this.lastSearch = { text: needle, rows };
    return rows;
  }

  /** The file's row groups as row ranges. */
  private get groups(): Array<{ start: number; end: number }> {
    if (!this.groupRanges) {
      let start = 0;
      this.groupRanges = this.metadata.row_groups.map((group) => ({ start, end: (start += Number(group.num_rows)) }));
    }
    return this.groupRanges;
  }
  private groupRanges: Array<{ start: number; end: number }> | undefined;

  /** Each row's last user message and response, for one row group. */
  private async groupTexts(group: { start: number; end: number }): Promise<RowText[]> {
    const rows = (await parquetReadObjects({ file: this.buffer, metadata: this.metadata, columns: ["messages", "raw_candidate"], rowStart: group.start, rowEnd: group.end, compressors })) as Array<{ messages: string | null; raw_candidate: string | null }>;
    return rows.map((row) => ({ prompt: lastUserMessage(row.messages), response: row.raw_candidate ?? "" }));
  }
}

interface RowText {
  prompt: string;
  response: string;
}

function lastUserMessage(messages: string | null): string {
  if (!messages) return "";
  try {
    const parsed = JSON.parse(messages) as Array<{ role: string; content: string }>;
    return parsed.filter((message) => message.role === "user").at(-1)?.content ?? "";
  } catch {
    return "";
  }
}
