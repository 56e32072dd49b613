import { parquetRead, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";

/** Few distinct values (models, personas, categories): a code per row and the values once. */
export class CodedColumn {
  readonly codes: Int32Array;
  readonly values: string[] = [];
  private readonly lookup = new Map<string, number>();
  constructor(size: number, codes?: Int32Array) {
    this.codes = codes ?? new Int32Array(size).fill(-1);
  }
  /** A column from its stored values and codes (see item-index-file.ts); the codes are checked by the caller. */
  static of(values: string[], codes: Int32Array): CodedColumn {
    const column = new CodedColumn(codes.length, codes);
    for (const value of values) column.lookup.set(value, column.values.push(value) - 1);
    return column;
  }
  set(row: number, value: unknown): void {
    if (value === null || value === undefined) return;
    const text = String(value);
    let code = this.lookup.get(text);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(text);
      this.lookup.set(text, code);
    }
    this.codes[row] = code;
  }
  get(row: number): string | null {
    const code = this.codes[row]!;
    return code < 0 ? null : this.values[code]!;
  }
  codeOf(value: string): number {
    return this.lookup.get(value) ?? -2;
  }
}

export type ColumnKind = "text" | "coded" | "number" | "boolean";

/**
 * Reads some columns of a Parquet file into compact arrays — strings, dictionary codes, Float64 (NaN for
 * null), Int8 (-1 for null) — one row group at a time, without building a JS object per row.
 */
export async function readColumns(
  file: AsyncBuffer,
  metadata: FileMetaData,
  kinds: Record<string, ColumnKind>,
): Promise<{ size: number; columns: Record<string, string[] | CodedColumn | Float64Array | Int8Array> }> {
  const size = Number(metadata.num_rows);
  const columns: Record<string, string[] | CodedColumn | Float64Array | Int8Array> = {};
  for (const [name, kind] of Object.entries(kinds)) {
    columns[name] = kind === "text" ? new Array<string>(size) : kind === "coded" ? new CodedColumn(size) : kind === "number" ? new Float64Array(size).fill(Number.NaN) : new Int8Array(size).fill(-1);
  }
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    await parquetRead({
      file,
      metadata,
      columns: Object.keys(kinds),
      rowStart: start,
      rowEnd: end,
      compressors,
      onChunk: ({ columnName, columnData, rowStart }) => {
        const target = columns[columnName]!;
        const kind = kinds[columnName]!;
        for (let offset = 0; offset < columnData.length; offset++) {
          const row = rowStart + offset;
          if (row < start || row >= end) continue;
          const value: unknown = columnData[offset];
          if (kind === "text") (target as string[])[row] = value === null || value === undefined ? "" : String(value);
          else if (kind === "coded") (target as CodedColumn).set(row, value);
          else if (kind === "number") (target as Float64Array)[row] = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : Number.NaN;
          else (target as Int8Array)[row] = value === null || value === undefined ? -1 : value ? 1 : 0;
        }
      },
    });
    start = end;
  }
  return { size, columns };
}
