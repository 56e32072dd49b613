import { readFileSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import type { ResultRow } from "../../src/results/record.js";

export function tempDir(prefix = "alignbench-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function readPartials(folder: string): ResultRow[] {
  return readFileSync(join(folder, "partials.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ResultRow);
}

export async function readResultsParquet(folder: string): Promise<Array<Record<string, unknown>>> {
  const bytes = readFileSync(join(folder, "results.parquet"));
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return parquetReadObjects({ file });
}

export function writeJsonl(file: string, rows: unknown[]): void {
  writeFileSync(file, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
}
