import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { FileMetaData } from "hyparquet";

// A Parquet file's footer, for the item index. Hashing a 400,000-row results.parquet whole to know that
// items.index still matches it cost more than the first page of the viewer may take; its footer records
// every column chunk's offset, size, value count and statistics, so the file's size and its footer's hash
// tell a rewritten file apart. And parsing that footer (1.5 MB for 400 row groups of 52 columns) is the
// other large cost of opening a run, so items.index keeps the part of it the viewer reads lazily.

/** A Parquet file's size and the SHA-256 of its footer (metadata and length), read from its end. */
export function footerIdentity(file: string): { bytes: number; footer_sha256: string } {
  const fd = openSync(file, "r");
  try {
    const bytes = fstatSync(fd).size;
    if (bytes < 12) return { bytes, footer_sha256: "" };
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, bytes - 8);
    const length = Math.min(tail.readUInt32LE(0), bytes - 8);
    const footer = Buffer.allocUnsafe(length + 8);
    readSync(fd, footer, 0, footer.length, bytes - footer.length);
    return { bytes, footer_sha256: createHash("sha256").update(footer).digest("hex") };
  } finally {
    closeSync(fd);
  }
}

/** Parsed metadata with its big integers and byte strings written so JSON keeps them. */
export type StoredMetadata = unknown;

/**
 * The file's metadata with only the column chunks of the named columns in each row group, in a JSON-safe
 * form. hyparquet finds a row group's chunks by their path, so a read of those columns with this metadata
 * reads exactly what it would with the whole footer.
 */
export function slimMetadata(metadata: FileMetaData, keep: (column: string) => boolean): StoredMetadata {
  const slim = {
    version: metadata.version,
    schema: metadata.schema,
    num_rows: metadata.num_rows,
    row_groups: metadata.row_groups.map((group) => ({ ...group, columns: group.columns.filter((chunk) => keep(chunk.meta_data?.path_in_schema.join(".") ?? "")) })),
    metadata_length: metadata.metadata_length,
  };
  // The replacer reads the original value (`this[key]`): a Date has been turned into text by then.
  return JSON.parse(
    JSON.stringify(slim, function (this: Record<string, unknown>, key, value: unknown) {
      return encodeValue(this[key] ?? value);
    }),
  );
}

/** Metadata stored by slimMetadata, as hyparquet reads it. */
export function reviveMetadata(stored: StoredMetadata): FileMetaData {
  return revive(stored) as FileMetaData;
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  const decoded = decodeValue(value);
  if (decoded !== value || decoded === null || typeof decoded !== "object") return decoded;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(decoded)) out[key] = revive(entry);
  return out;
}

function encodeValue(value: unknown): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  if (value instanceof Date) return { $date: value.getTime() };
  return value;
}

function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (typeof record.$bigint === "string") return BigInt(record.$bigint);
  if (typeof record.$bytes === "string") return new Uint8Array(Buffer.from(record.$bytes, "base64"));
  if (typeof record.$date === "number") return new Date(record.$date);
  return value;
}
