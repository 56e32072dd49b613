import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { InputError, InputErrors } from "../errors.js";
import { readRecords, formatOf, type RawRecord } from "./readers.js";
import { datasetRowSchema, fieldPath, rowToSample, type Sample } from "./sample.js";

export type BadRowPolicy = "stop" | "skip";

export interface DatasetCheck {
  file: string;
  sha256: string;
  /** Rows that will run (after skipping bad ones and applying the limit). */
  validRows: number;
  badRows: number;
  /** Lines that hold a bad row; the run pass skips exactly these. */
  skippedLines: Set<number>;
  /** Examples of the problems found, for the log and the terminal. */
  problems: InputError[];
}

const SHOWN_PROBLEMS = 20;

function validate(file: string, record: RawRecord): { sample?: Sample; problem?: InputError } {
  if (record.problem) {
    return { problem: new InputError(file, record.line, record.problem.field, record.problem.message) };
  }
  const parsed = datasetRowSchema.safeParse(record.value);
  if (parsed.success) return { sample: rowToSample(parsed.data) };
  const issue = parsed.error.issues[0]!;
  const problem = issue.code !== "custom" && valueAt(record.value, issue.path) === undefined ? "required" : issue.message;
  return { problem: new InputError(file, record.line, fieldPath(issue.path), problem) };
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * The validation pass, before any model call: every row is checked, ids must be unique, and the file's
 * sha256 is taken on the way. With policy "stop" any problem throws; with "skip" bad rows are counted.
 */
export async function checkDataset(file: string, policy: BadRowPolicy, limit?: number): Promise<DatasetCheck> {
  formatOf(file);
  const hash = createHash("sha256");
  const seenIds = new Map<string, number>();
  const skippedLines = new Set<number>();
  const problems: InputError[] = [];
  let validRows = 0;
  let badRows = 0;
  const reader = readRecords(file, hash);
  for await (const record of reader) {
    if (limit !== undefined && validRows >= limit) break;
    let { sample, problem } = validate(file, record);
    if (sample) {
      const firstLine = seenIds.get(sample.id);
      if (firstLine !== undefined) problem = new InputError(file, record.line, "id", `duplicate id "${sample.id}" (first on line ${firstLine})`);
      else seenIds.set(sample.id, record.line);
    }
    if (problem) {
      badRows++;
      skippedLines.add(record.line);
      if (problems.length < SHOWN_PROBLEMS) problems.push(problem);
      continue;
    }
    validRows++;
  }
  if (badRows > 0 && policy === "stop") throw new InputErrors(problems, badRows);
  const sha256 = limit === undefined && formatOf(file) !== "parquet" ? hash.digest("hex") : await hashFile(file);
  return { file, sha256, validRows, badRows, skippedLines, problems };
}

/**
 * The run pass: streams the samples that passed `checkDataset`, in file order. `isFinished(id)` lets a
 * resume skip rows whose work is all done without validating them again, so it reaches new work fast.
 */
export async function* streamSamples(check: DatasetCheck, limit?: number, isFinished?: (id: string) => boolean): AsyncGenerator<Sample> {
  let produced = 0;
  for await (const record of readRecords(check.file)) {
    if (limit !== undefined && produced >= limit) return;
    if (check.skippedLines.has(record.line)) continue;
    const rawId = record.value?.id;
    if (isFinished && (typeof rawId === "string" || typeof rawId === "number") && isFinished(String(rawId))) {
      produced++;
      continue;
    }
    const { sample, problem } = validate(check.file, record);
    // The file changed between the two passes: refuse rather than run something unchecked.
    if (!sample) throw problem ?? new InputError(check.file, record.line, undefined, "changed while the run was starting");
    produced++;
    yield sample;
  }
}

/** The sha256 of a file, streamed. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
