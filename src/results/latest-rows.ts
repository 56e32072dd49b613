import { closeSync, existsSync, openSync, statSync } from "node:fs";
import { readRowAt } from "./partials-reader.js";
import type { ResultRow } from "./record.js";
import { folderFiles } from "./run-folder.js";
import { StateStore } from "./state-store.js";

/**
 * Whether a run folder's results.parquet holds its latest rows: written after the last append to
 * partials.jsonl (a finished run), so a row read from partials.jsonl by key is the row the Parquet file has.
 */
export function parquetIsCurrent(folder: string): boolean {
  const files = folderFiles(folder);
  const changed = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  const partials = changed(files.partials);
  const parquet = changed(files.parquet);
  return partials !== undefined && parquet !== undefined && parquet >= partials;
}

/**
 * The latest attempt of each key, read from partials.jsonl where state.sqlite says it is: one short read
 * per row instead of a scan. Undefined when a row is not where the state says (an older folder, a damaged
 * state), so the caller reads it another way.
 */
export function readLatestRows(folder: string, keys: readonly string[]): Map<string, ResultRow> | undefined {
  const files = folderFiles(folder);
  if (!existsSync(files.state) || !existsSync(files.partials)) return undefined;
  const state = new StateStore(files.state, { readonly: true });
  const fd = openSync(files.partials, "r");
  try {
    const rows = new Map<string, ResultRow>();
    for (const key of keys) {
      if (rows.has(key)) continue;
      const mark = state.lookup(key);
      const row = mark?.rowOffset != null ? readRowAt(files.partials, mark.rowOffset, fd) : undefined;
      if (!row || row.key !== key || row.attempt !== mark!.attempts) return undefined;
      rows.set(key, row);
    }
    return rows;
  } finally {
    closeSync(fd);
    state.close();
  }
}
