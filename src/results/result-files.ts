import { closeSync, openSync, renameSync, writeSync } from "node:fs";
import { ParquetWriter, fileWriter, schemaFromColumnData } from "hyparquet-writer";
import { reclaimMemory } from "./reclaim-memory.js";
import type { ResultRow } from "./record.js";
import type { ResultColumn } from "./result-columns.js";
import type { RunFiles } from "./run-folder.js";
import { asWriteFailure, removeQuietly } from "./write-failure.js";

// Small row groups keep the writer's memory flat; readers still skip through them by statistics.
const ROW_GROUP = 1_000;
const ROWS_BETWEEN_COLLECTIONS = 5_000;
const LONG_TEXT = new Set(["raw_candidate", "judge_raw", "error", "expected_safe_behavior", "attack_notes", "item_judge_prompt"]);

/**
 * Writes results.parquet and results.csv from a stream of rows, one row group at a time, so memory stays
 * flat however large the run. Nested values are stored as JSON text (serialised once for both files).
 * Both files are written beside their final names and renamed when complete.
 */
export async function writeResultFiles(files: RunFiles, rows: AsyncIterable<ResultRow>, columns: ResultColumn[]): Promise<number> {
  // Which file a failure is in, for the message: the CSV's and the Parquet's writes interleave.
  let current = files.csv;
  try {
    return await writeBoth(files, rows, columns, (file) => (current = file));
  } catch (error) {
    // A full disk or a refused write leaves no half-written .tmp behind; the previous results (if any) stay.
    removeQuietly(files.csv + ".tmp");
    removeQuietly(files.parquet + ".tmp");
    throw asWriteFailure(current, error);
  }
}

async function writeBoth(files: RunFiles, rows: AsyncIterable<ResultRow>, columns: ResultColumn[], writing: (file: string) => void): Promise<number> {
  const csv = openSync(files.csv + ".tmp", "w");
  writing(files.parquet);
  const parquetType = (column: ResultColumn) => (column.type === "JSON" ? "STRING" : column.type);
  const parquet = new ParquetWriter({
    writer: fileWriter(files.parquet + ".tmp"),
    schema: schemaFromColumnData({ columnData: columns.map((column) => ({ name: column.name, data: [], type: parquetType(column), nullable: true })) }),
    kvMetadata: [{ key: "alignbench.schema_version", value: "1" }],
    createdBy: "alignbench",
  });
  let batch: unknown[][] = columns.map(() => []);
  let batchRows = 0;
  let count = 0;
  let csvLines: string[] = [columns.map((column) => csvCell(column.name)).join(",")];
  const writeGroup = () => {
    if (batchRows === 0) return;
    writing(files.parquet);
    parquet.write({
      columnData: columns.map((column, index) => ({
        name: column.name,
        data: batch[index]!,
        type: parquetType(column),
        nullable: true,
        // Min/max statistics help readers skip row groups by score or id; on long texts they only cost time.
        statistics: column.type !== "JSON" && !LONG_TEXT.has(column.name),
      })),
      rowGroupSize: batchRows,
    });
    batch = columns.map(() => []);
    batchRows = 0;
    writing(files.csv);
    writeSync(csv, csvLines.join("\n") + "\n");
    csvLines = [];
  };
  try {
    const cells: string[] = new Array<string>(columns.length);
    for await (const row of rows) {
      for (let index = 0; index < columns.length; index++) {
        const column = columns[index]!;
        let value = column.get(row);
        if (value !== null && column.type === "JSON") value = JSON.stringify(value);
        batch[index]!.push(value);
        cells[index] = value === null ? "" : typeof value === "string" ? csvCell(value) : String(value);
      }
      csvLines.push(cells.join(","));
      batchRows++;
      count++;
      if (batchRows === ROW_GROUP) writeGroup();
      if (count % ROWS_BETWEEN_COLLECTIONS === 0) reclaimMemory();
    }
    writeGroup();
    writing(files.csv);
    if (csvLines.length > 0) writeSync(csv, csvLines.join("\n") + "\n"); // the header of an empty run
    writing(files.parquet);
    parquet.finish();
  } finally {
    closeSync(csv);
  }
  writing(files.parquet);
  renameSync(files.parquet + ".tmp", files.parquet);
  writing(files.csv);
  renameSync(files.csv + ".tmp", files.csv);
  return count;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: quote a cell holding a comma, quote or line break, doubling its quotes. */
function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
