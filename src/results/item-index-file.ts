import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { asyncBufferFromFile, parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { VERSION } from "../version.js";
import { ColumnFileProblem, readColumnFile, writeColumnFile, type Stored } from "./column-file.js";
import { readItemColumns, type ItemColumns } from "./item-columns.js";
import type { RunLens } from "./run-lens.js";

/**
 * items.index: the item columns of a run's results.parquet (item-columns.ts), stored when the run finalises
 * so that the viewer and the report read them in one go instead of scanning the Parquet file. Bump the
 * format when what readItemColumns derives changes meaning; a new alignbench version rebuilds it anyway.
 */
export const ITEM_INDEX_FORMAT = 1;

interface ItemIndexMeta {
  format: number;
  tool_version: string;
  /** The results.parquet the columns were read from: its size and SHA-256. */
  parquet: { bytes: number; sha256: string };
  /** SHA-256 of the lens (scorer declarations and primary metric) that outcomes and severity were derived with. */
  lens: string;
}

/** Size and SHA-256 of a file, read in chunks. */
export function fileIdentity(file: string): { bytes: number; sha256: string } {
  const hash = createHash("sha256");
  const fd = openSync(file, "r");
  const chunk = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  try {
    for (let read = readSync(fd, chunk, 0, chunk.length, bytes); read > 0; read = readSync(fd, chunk, 0, chunk.length, bytes)) {
      hash.update(chunk.subarray(0, read));
      bytes += read;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest("hex") };
}

const lensHash = (lens: RunLens) =>
  createHash("sha256")
    .update(JSON.stringify({ scorers: lens.scorers, primary: lens.primary ?? null }))
    .digest("hex");

/** Builds the item columns from results.parquet and stores them in items.index (atomically). */
export async function writeItemIndex(files: { parquet: string; itemIndex: string }, lens: RunLens): Promise<ItemColumns> {
  const identity = fileIdentity(files.parquet);
  const buffer = await asyncBufferFromFile(files.parquet);
  const columns = await readItemColumns(buffer, await parquetMetadataAsync(buffer), lens);
  const meta: ItemIndexMeta = { format: ITEM_INDEX_FORMAT, tool_version: VERSION, parquet: identity, lens: lensHash(lens) };
  writeColumnFile(files.itemIndex, meta, columns as unknown as Stored);
  return columns;
}

/**
 * The stored item columns when items.index was written from this very results.parquet (size and SHA-256),
 * with this lens, by this version; otherwise a ColumnFileProblem saying why not (missing, stale, damaged).
 */
export function readItemIndex(files: { parquet: string; itemIndex: string }, lens: RunLens): ItemColumns {
  const { value } = readColumnFile<ItemIndexMeta>(files.itemIndex, (meta) => {
    if (!meta || typeof meta !== "object") return "its header is misshapen";
    if (meta.format !== ITEM_INDEX_FORMAT || meta.tool_version !== VERSION) return `it was written by another version (${String(meta.tool_version)}, format ${String(meta.format)})`;
    if (meta.lens !== lensHash(lens)) return "it was built for other scorer declarations";
    const parquet = fileIdentity(files.parquet);
    if (meta.parquet?.bytes !== parquet.bytes || meta.parquet.sha256 !== parquet.sha256) return "results.parquet changed since it was written";
    return undefined;
  });
  checkShape(value, lens);
  return value as unknown as ItemColumns;
}

/**
 * The item columns of results.parquet: from items.index when it matches the file, else read from the file
 * (what `problem` says why). `buffer` and `metadata`: results.parquet, already opened by the caller.
 */
export async function loadItemColumns(
  files: { parquet: string; itemIndex: string },
  lens: RunLens,
  buffer: AsyncBuffer,
  metadata: FileMetaData,
): Promise<{ columns: ItemColumns; stored: boolean; problem?: string }> {
  try {
    return { columns: readItemIndex(files, lens), stored: true };
  } catch (error) {
    if (!(error instanceof ColumnFileProblem)) throw error;
    return { columns: await readItemColumns(buffer, metadata, lens), stored: false, problem: error.message };
  }
}

/** The columns every reader relies on, each one value per row; extra columns pass. */
function checkShape(value: Stored, lens: RunLens): void {
  const columns = value as unknown as Partial<ItemColumns>;
  const size = columns.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw new ColumnFileProblem("it has no row count");
  const perRow = (column: unknown) =>
    column instanceof Float64Array || column instanceof Int8Array || column instanceof Int32Array || Array.isArray(column)
      ? column.length === size
      : (column as { codes?: unknown })?.codes instanceof Int32Array && (column as { codes: Int32Array }).codes.length === size;
  const scorers = columns.scorers instanceof Map ? columns.scorers : undefined;
  const orders = Object.values(columns.orders ?? {});
  const rows = [
    ...orders,
    columns.keys,
    columns.testIds,
    columns.epochs,
    columns.severity,
    columns.outcome,
    columns.rank,
    ...Object.values(columns.coded ?? {}),
    ...Object.values(columns.usage ?? {}),
  ];
  const complete =
    columns.coded !== undefined &&
    columns.usage !== undefined &&
    Array.isArray(columns.facets?.models) &&
    scorers !== undefined &&
    lens.scorers.every(({ name }) => scorers.has(name)) &&
    [...scorers.values()].every((scorer) => perRow(scorer.value) && perRow(scorer.label)) &&
    orders.length === 2 &&
    orders.every(isPermutation) &&
    rows.every(perRow);
  if (!complete) throw new ColumnFileProblem("its columns are not one value per row of results.parquet");
}

/** Whether an order holds each row number once. */
function isPermutation(order: unknown): boolean {
  if (!(order instanceof Int32Array)) return false;
  const seen = new Uint8Array(order.length);
  for (const row of order) {
    if (row < 0 || row >= order.length || seen[row]) return false;
    seen[row] = 1;
  }
  return true;
}
