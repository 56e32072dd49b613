import { closeSync, openSync, readSync } from "node:fs";
import { InputError } from "../errors.js";
import { readLines, type ReadLinesOptions } from "../io/lines.js";
import { expandRow, RESULT_SCHEMA_VERSION, type ResultRow } from "./record.js";
import { parseJson, validateRow } from "./record-schemas.js";
import { upgradeRow } from "./row-upgrade.js";
import type { StateStore } from "./state-store.js";

/**
 * Streams the rows of partials.jsonl in file order, each checked (record-schemas.ts): a row that is not
 * JSON, has a field of the wrong type, or was written by a newer alignbench stops the read with a UserError
 * naming the file, line and field. A last line with no newline is a row still being written or one cut
 * short by a kill (reconcile removes it before a run resumes): it is skipped unless it is whole. `endOffset`
 * stops at a byte offset, so rows appended while reading are not read back.
 */
export async function* readPartialRows(file: string, endOffset?: number): AsyncGenerator<ResultRow> {
  let line = 0;
  let tail: string | undefined;
  const options: ReadLinesOptions = { onUnterminated: (rest) => (tail = rest) };
  if (endOffset !== undefined) options.endOffset = endOffset;
  try {
    for await (const text of readLines(file, options)) {
      line++;
      if (text) yield parseRow(file, line, parseJson(file, line, text));
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (tail === undefined) return;
  const whole = parseOrUndefined(tail);
  if (whole !== undefined) yield parseRow(file, line + 1, whole);
}

/** Checks a stored row, then brings it to the current format (row-upgrade.ts) and puts its transcript back together. */
function parseRow(file: string, line: number | undefined, value: unknown): ResultRow {
  return expandRow(upgradeRow(validateRow(file, line, value, RESULT_SCHEMA_VERSION)));
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The latest attempt of every key (what results.parquet holds): the row whose attempt number the state
 * store records. Only keys tried more than once need looking up, and they are few, so they are loaded
 * up front instead of querying SQLite per row.
 */
export async function* latestRows(file: string, store: StateStore, endOffset?: number): AsyncGenerator<ResultRow> {
  const retried = store.retriedKeys();
  for await (const row of readPartialRows(file, endOffset)) {
    if (row.attempt === (retried.get(row.key) ?? 1)) yield row;
  }
}

/**
 * The row that starts at `offset` in partials.jsonl (offsets are kept in state.sqlite). `openFd`: the file
 * already open, for a caller reading many rows.
 */
export function readRowAt(file: string, offset: number, openFd?: number): ResultRow | undefined {
  const fd = openFd ?? openSync(file, "r");
  try {
    const chunks: Buffer[] = [];
    let position = offset;
    for (;;) {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read <= 0) break;
      const newline = buffer.subarray(0, read).indexOf(10);
      if (newline !== -1) {
        chunks.push(buffer.subarray(0, newline));
        break;
      }
      chunks.push(buffer.subarray(0, read));
      position += read;
    }
    // Not JSON: the offset is not the start of a row (the caller checks the key of what it gets).
    const value = parseOrUndefined(Buffer.concat(chunks).toString("utf8"));
    if (value === undefined || value === null) return undefined;
    const checked = safely(() => validateRow(file, undefined, value, RESULT_SCHEMA_VERSION));
    if (checked instanceof InputError) throw new InputError(file, lineAt(fd, offset), checked.field, checked.problem);
    if (checked instanceof Error) throw checked;
    return expandRow(upgradeRow(checked));
  } finally {
    if (openFd === undefined) closeSync(fd);
  }
}

function safely<T>(run: () => T): T | Error {
  try {
    return run();
  } catch (error) {
    return error as Error;
  }
}

/** The line number of a byte offset (counted only when a row there is reported as damaged). */
function lineAt(fd: number, offset: number): number {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let line = 1;
  for (let position = 0; position < offset; ) {
    const read = readSync(fd, buffer, 0, Math.min(buffer.length, offset - position), position);
    if (read <= 0) break;
    for (let at = buffer.indexOf(10, 0); at !== -1 && at < read; at = buffer.indexOf(10, at + 1)) line++;
    position += read;
  }
  return line;
}
