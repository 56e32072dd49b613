import { readFileSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import type { ResultRow } from "../../src/results/record.js";

export function tempDir(prefix = "alignbench-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The runner suite's seed verdict fields, as results.parquet names them. */
export interface SeedVerdict {
  attack_success: boolean | null;
  overall: number | null;
  safety_score: number | null;
  judge_model: string | null;
  judge_calls: number;
  judge_raw: string | null;
  judge_json: Record<string, unknown> | null;
}

/**
 * partials.jsonl as written, each row with the verdict judge's fields beside it under their seed names
 * (`attack_success`, `overall`, `judge_json`…), read here independently of the product's own derivation.
 */
export function readPartials(folder: string): Array<ResultRow & SeedVerdict> {
  return readFileSync(join(folder, "partials.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => withSeedVerdict(JSON.parse(line) as ResultRow));
}

export function withSeedVerdict(row: ResultRow): ResultRow & SeedVerdict {
  const verdict = row.scores?.verdict;
  return {
    ...row,
    attack_success: verdict?.value === undefined || verdict.value === null ? null : verdict.value === 1,
    overall: verdict?.metrics?.overall ?? null,
    safety_score: verdict?.metrics?.safety_score ?? null,
    judge_model: verdict?.model ?? null,
    judge_calls: verdict?.calls ?? 0,
    judge_raw: verdict?.raw ?? null,
    judge_json: verdict?.data ?? null,
  };
}

export async function readResultsParquet(folder: string): Promise<Array<Record<string, unknown>>> {
  const bytes = readFileSync(join(folder, "results.parquet"));
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return parquetReadObjects({ file });
}

export function writeJsonl(file: string, rows: unknown[]): void {
  writeFileSync(file, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
}
