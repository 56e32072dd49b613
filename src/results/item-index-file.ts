import { createHash } from "node:crypto";
import { asyncBufferFromFile, parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { VERSION } from "../version.js";
import { ColumnFileProblem, readColumnFile, TextColumn, writeColumnFile, type Stored } from "./column-file.js";
import { DerivedKeys, readItemColumns, type ItemColumns } from "./item-columns.js";
import { footerIdentity, reviveMetadata, slimMetadata, type StoredMetadata } from "./parquet-footer.js";
import type { RunLens } from "./run-lens.js";

/**
 * items.index: the item columns of a run's results.parquet (item-columns.ts), stored when the run finalises
 * so that the viewer and the report read them in one go instead of scanning the Parquet file. Bump the
 * format when what readItemColumns derives changes meaning; a new alignbench version rebuilds it anyway.
 */
export const ITEM_INDEX_FORMAT = 2;

interface ItemIndexMeta {
  format: number;
  tool_version: string;
  /** The results.parquet the columns were read from: its size and the SHA-256 of its footer (see parquet-footer.ts). */
  parquet: { bytes: number; footer_sha256: string };
  /** SHA-256 of the lens (scorer declarations and primary metric) that outcomes and severity were derived with. */
  lens: string;
  /** "derived": the keys are not stored, being every row's test|persona|model|epoch (DerivedKeys). */
  keys?: "derived";
  /** The footer's metadata for the columns the viewer reads later (texts, subcategory, tags), so it need not parse the whole footer. */
  footer: StoredMetadata;
}

/** The columns the viewer reads from results.parquet after opening a run: row texts and the facet columns. */
export const isLazyColumn = (name: string) => name === "messages" || name === "raw_candidate" || name === "subcategory" || name.startsWith("tags.");

const lensHash = (lens: RunLens) =>
  createHash("sha256")
    .update(JSON.stringify({ scorers: lens.scorers, primary: lens.primary ?? null }))
    .digest("hex");

/** Builds the item columns from results.parquet and stores them in items.index (atomically). */
export async function writeItemIndex(files: { parquet: string; itemIndex: string }, lens: RunLens): Promise<ItemColumns> {
  const identity = footerIdentity(files.parquet);
  const buffer = await asyncBufferFromFile(files.parquet);
  const metadata = await parquetMetadataAsync(buffer);
  const columns = await readItemColumns(buffer, metadata, lens);
  const meta: ItemIndexMeta = { format: ITEM_INDEX_FORMAT, tool_version: VERSION, parquet: identity, lens: lensHash(lens), footer: slimMetadata(metadata, isLazyColumn) };
  const derived = DerivedKeys.match(columns);
  if (derived) meta.keys = "derived";
  const { keys: _keys, ...rest } = columns;
  writeColumnFile(files.itemIndex, meta, (derived ? rest : columns) as unknown as Stored);
  return columns;
}

/**
 * The stored item columns when items.index was written from this very results.parquet (size and footer),
 * with this lens, by this version, and the footer's metadata of the columns read later (isLazyColumn);
 * otherwise a ColumnFileProblem saying why not (missing, stale, damaged).
 */
export function readItemIndex(files: { parquet: string; itemIndex: string }, lens: RunLens): { columns: ItemColumns; footer: FileMetaData } {
  const { meta, value } = readColumnFile<ItemIndexMeta>(files.itemIndex, (meta) => {
    if (!meta || typeof meta !== "object") return "its header is misshapen";
    if (meta.format !== ITEM_INDEX_FORMAT || meta.tool_version !== VERSION) return `it was written by another version (${String(meta.tool_version)}, format ${String(meta.format)})`;
    if (meta.lens !== lensHash(lens)) return "it was built for other scorer declarations";
    const parquet = footerIdentity(files.parquet);
    if (meta.parquet?.bytes !== parquet.bytes || meta.parquet.footer_sha256 !== parquet.footer_sha256) return "results.parquet changed since it was written";
    return undefined;
  });
  if (meta.keys === "derived") {
    const columns = value as unknown as ItemColumns;
    if (columns.testIds && columns.coded?.persona && columns.coded.model && columns.epochs instanceof Float64Array) (value as { keys?: unknown }).keys = new DerivedKeys(columns);
  }
  checkShape(value, lens);
  let footer: FileMetaData;
  try {
    footer = reviveMetadata(meta.footer);
  } catch {
    throw new ColumnFileProblem("its copy of the Parquet footer is misshapen");
  }
  if (!Array.isArray(footer?.row_groups) || !Array.isArray(footer.schema)) throw new ColumnFileProblem("its copy of the Parquet footer is misshapen");
  return { columns: value as unknown as ItemColumns, footer };
}

/**
 * The item columns of results.parquet: from items.index when it matches the file, else read from the file
 * (`problem` says why). `metadata`: the footer's metadata for the lazily read columns (the whole footer
 * when it had to be parsed); `full` when it is the whole footer.
 */
export async function loadItemColumns(
  files: { parquet: string; itemIndex: string },
  lens: RunLens,
  buffer: AsyncBuffer,
): Promise<{ columns: ItemColumns; stored: boolean; metadata: FileMetaData; full: boolean; problem?: string }> {
  try {
    const { columns, footer } = readItemIndex(files, lens);
    return { columns, stored: true, metadata: footer, full: false };
  } catch (error) {
    if (!(error instanceof ColumnFileProblem)) throw error;
    const metadata = await parquetMetadataAsync(buffer);
    return { columns: await readItemColumns(buffer, metadata, lens), stored: false, metadata, full: true, problem: error.message };
  }
}

/** The columns every reader relies on, each one value per row; extra columns pass. */
function checkShape(value: Stored, lens: RunLens): void {
  const columns = value as unknown as Partial<ItemColumns>;
  const size = columns.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw new ColumnFileProblem("it has no row count");
  const perRow = (column: unknown) =>
    column instanceof Float64Array ||
    column instanceof Float32Array ||
    column instanceof Int8Array ||
    column instanceof Int32Array ||
    Array.isArray(column) ||
    column instanceof TextColumn ||
    column instanceof DerivedKeys
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
