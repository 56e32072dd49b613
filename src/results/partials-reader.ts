import { closeSync, openSync, readSync } from "node:fs";
import { readLines } from "../io/lines.js";
import { expandRow, type ResultRow } from "./record.js";
import { upgradeRow } from "./row-upgrade.js";
import type { StateStore } from "./state-store.js";

/**
 * Streams the rows of partials.jsonl in file order; lines that do not parse (none, after reconcile) are
 * skipped. `endOffset` stops at a byte offset, so rows appended while reading are not read back.
 */
export async function* readPartialRows(file: string, endOffset?: number): AsyncGenerator<ResultRow> {
  try {
    for await (const line of readLines(file, endOffset === undefined ? {} : { endOffset })) {
      const row = parseRow(line);
      if (row) yield row;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
}

function parseRow(line: string): ResultRow | undefined {
  if (!line) return undefined;
  try {
    return expandRow(upgradeRow(JSON.parse(line) as ResultRow));
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

/** The row that starts at `offset` in partials.jsonl (offsets are kept in state.sqlite). */
export function readRowAt(file: string, offset: number): ResultRow | undefined {
  const fd = openSync(file, "r");
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
    return parseRow(Buffer.concat(chunks).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}
