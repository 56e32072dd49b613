import { closeSync, ftruncateSync, fstatSync, openSync, readSync } from "node:fs";
import type { ResultRow } from "./record.js";
import type { ResultColumns } from "./result-columns.js";
import type { ItemMark, StateStore } from "./state-store.js";

export interface ReconcileReport {
  /** Rows found on disk but not yet marked, now marked. */
  recovered: number;
  /** Bytes of a row cut short by a crash, removed from the end of the file. */
  truncatedBytes: number;
  /** state.sqlite was behind or ahead of the file and was rebuilt from it. */
  rebuilt: boolean;
}

const CHUNK = 1 << 20;
const BATCH = 5_000;

/**
 * Brings state.sqlite in line with partials.jsonl after a crash: rows written after the last committed
 * offset are marked (so they are neither lost nor run again), and a last line cut short by a kill is removed
 * (its key was never marked, so it runs again).
 */
export function reconcile(partialsFile: string, store: StateStore): ReconcileReport {
  const report: ReconcileReport = { recovered: 0, truncatedBytes: 0, rebuilt: false };
  let fd: number;
  try {
    fd = openSync(partialsFile, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return report;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    let offset = store.partialsOffset();
    if (offset > size) {
      // The store claims rows the file does not have (the file was replaced): trust the file.
      store.reset();
      offset = 0;
      report.rebuilt = true;
    }
    const columns = store.resultColumns();
    let position = offset;
    let carry = Buffer.alloc(0);
    let marks: ItemMark[] = [];
    let committedTo = offset;
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (read <= 0) break;
      position += read;
      let data = carry.length ? Buffer.concat([carry, buffer.subarray(0, read)]) : buffer.subarray(0, read);
      let lineStart = 0;
      let newline: number;
      while ((newline = data.indexOf(10, lineStart)) !== -1) {
        const mark = markOf(data.toString("utf8", lineStart, newline), columns, committedTo);
        committedTo += newline + 1 - lineStart;
        lineStart = newline + 1;
        if (mark) marks.push(mark);
        if (marks.length >= BATCH) {
          store.commit(marks, committedTo, columns);
          report.recovered += marks.length;
          marks = [];
        }
      }
      carry = Buffer.from(data.subarray(lineStart));
      data = Buffer.alloc(0);
    }
    if (marks.length > 0 || committedTo !== offset) {
      store.commit(marks, committedTo, columns);
      report.recovered += marks.length;
    }
    if (carry.length > 0) {
      ftruncateSync(fd, committedTo);
      report.truncatedBytes = carry.length;
    }
  } finally {
    closeSync(fd);
  }
  return report;
}

function markOf(line: string, columns: ResultColumns, rowOffset: number): ItemMark | undefined {
  if (!line.trim()) return undefined;
  try {
    const row = JSON.parse(line) as { key?: unknown; status?: unknown; attempt?: unknown; error_type?: unknown };
    if (typeof row.key !== "string" || (row.status !== "ok" && row.status !== "error") || typeof row.attempt !== "number") return undefined;
    columns.observe(row as ResultRow);
    return { key: row.key, status: row.status, attempt: row.attempt, errorType: typeof row.error_type === "string" ? row.error_type : null, rowOffset };
  } catch {
    return undefined;
  }
}
