import { createHash } from "node:crypto";
import { InputError, InputErrors } from "../errors.js";
import { sha256File } from "../io/hash-file.js";
import { CompactIdSet } from "./id-set.js";
import { readRecords, formatOf, type RawRecord, type ReadRecordsOptions } from "./readers.js";
import { recordFormatNamed } from "./formats/registry.js";
import { fieldAt, parseRecordsPath } from "./records-path.js";
import { datasetRowSchema, fieldPath, rowToSample, type Sample } from "./sample.js";

export type BadRowPolicy = "stop" | "skip";

/**
 * Which columns hold the id, prompt, category and subcategory, for files whose columns are named otherwise
 * (AdvBench's `goal`, XSTest's `type`…), so public benchmarks run without conversion. `id: "#line"` numbers
 * rows by their line (or Parquet row) instead.
 */
export interface FieldMapping {
  id?: string;
  prompt?: string;
  category?: string;
  subcategory?: string;
  /**
   * A column of context the prompt refers to (HarmBench's ContextString). When a row has one, the prompt
   * becomes `context\n\n---\n\nprompt`, as HarmBench builds it, and both are kept for the scorers.
   */
  context?: string;
  /**
   * The column of the behaviour a classifier judges against (HarmBench's `[BEHAVIOR]`), when it is not the
   * text sent to the model: a jailbreak prompt wraps a behaviour. Without it the behaviour is the prompt.
   * A prompt in a column of its own is sent as it is (an attack's test case already holds any context).
   */
  behavior?: string;
  /**
   * A column of answer choices for multiple-choice scoring: an object {choice: 1 | 0} (TruthfulQA's
   * mc1_targets) or a list of choices with `answer` naming the correct one(s) by 0-based index or text.
   */
  choices?: string;
  answer?: string;
  /** Columns whose values label each result row (`tags`), so summaries break results down by them (XSTest's safe/unsafe `label`). */
  tags?: string[];
  /** A record format that turns each record into the rows it stands for, before the rest of the mapping (see formats/). */
  format?: string;
}

/**
 * The rows one record stands for, mapped: the record itself, or with a record format, each row the format
 * reads from it (all on the record's line), or the record's problem.
 */
function rowsOf(record: RawRecord, mapping: FieldMapping | undefined): RawRecord[] {
  if (!mapping?.format || !record.value) return [mapFields(record, mapping)];
  const rows = recordFormatNamed(mapping.format).rows(record.value);
  if (!Array.isArray(rows)) return [{ ...located(record), problem: rows.field === undefined ? { message: rows.message } : { field: rows.field, message: rows.message } }];
  return rows.map((value) => mapFields({ ...record, value }, mapping));
}

/**
 * The row as alignbench reads it. Every mapped field is read from the file's columns as they are (`source`),
 * never from another mapping's result: `category_field: harm_area` with `subcategory_field: category` gives
 * the file's harm_area and category columns, and a tag (`group_by`) is always the file's own column.
 */
function mapFields(record: RawRecord, mapping: FieldMapping | undefined): RawRecord {
  if (!mapping || !record.value) return record;
  const source = record.value;
  const value = { ...source };
  for (const field of ["prompt", "category", "subcategory"] as const) {
    const column = mapping[field];
    if (column && column !== field) value[field] = source[column];
  }
  if (mapping.id === "#line") value.id = String(record.line);
  else if (mapping.id && mapping.id !== "id") value.id = source[mapping.id];
  const metadata: Record<string, unknown> = isObject(value.metadata) ? { ...value.metadata } : {};
  const context = mapping.context ? source[mapping.context] : undefined;
  const ownBehavior = mapping.behavior !== undefined && mapping.behavior !== (mapping.prompt ?? "prompt");
  if (mapping.behavior) {
    const behavior = source[mapping.behavior];
    if (typeof behavior !== "string" || behavior.trim() === "") {
      const message = behavior === undefined || behavior === null || typeof behavior === "string" ? "required" : "must be text";
      return { ...located(record), problem: { field: mapping.behavior, message: `${message} (named by behavior_field)` } };
    }
    metadata.behavior = behavior;
  }
  if (typeof value.prompt === "string" && (mapping.prompt || mapping.context || mapping.behavior)) {
    if (!mapping.behavior) metadata.behavior = value.prompt;
    if (typeof context === "string" && context.trim()) {
      metadata.context = context;
      if (!ownBehavior) value.prompt = `${context}\n\n---\n\n${value.prompt}`;
    }
  }
  if (mapping.choices) {
    const choices = readChoices(source[mapping.choices], mapping.answer ? source[mapping.answer] : undefined);
    if (typeof choices === "string") return { ...located(record), problem: { field: mapping.choices, message: choices } };
    metadata.choices = choices;
  }
  if (mapping.tags && mapping.tags.length > 0) {
    const tags: Record<string, string> = {};
    for (const column of mapping.tags) {
      const cell = source[column];
      if (cell === undefined || cell === null || typeof cell === "object") {
        return { ...located(record), problem: { field: column, message: cell === undefined || cell === null ? "required (named by group_by)" : "must be text or a number (named by group_by)" } };
      }
      tags[column] = String(cell);
    }
    metadata.tags = tags;
  }
  if (Object.keys(metadata).length > 0) value.metadata = metadata;
  return { ...record, value };
}

/** Normalises a row's choices to [{text, correct}], or says what is wrong with them. */
export function readChoices(cell: unknown, answer: unknown): Array<{ text: string; correct: boolean }> | string {
  let value = cell;
  if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    try {
      value = JSON.parse(value);
    } catch {
      return "not valid JSON";
    }
  }
  let choices: Array<{ text: string; correct: boolean }>;
  if (Array.isArray(value)) {
    if (!value.every((choice) => typeof choice === "string" && choice !== "")) return "choices must be non-empty strings";
    const texts = value as string[];
    const answers = (Array.isArray(answer) ? answer : [answer]).filter((entry) => entry !== undefined && entry !== null && entry !== "");
    if (answers.length === 0) return "a list of choices needs an answer column (answer_field) naming the correct one";
    const correct = new Set<number>();
    for (const entry of answers) {
      const index = typeof entry === "number" ? entry : /^\d+$/.test(String(entry)) ? Number(entry) : texts.indexOf(String(entry));
      if (!Number.isInteger(index) || index < 0 || index >= texts.length) return `answer "${String(entry)}" is not one of the ${texts.length} choices (0-based index or the choice's text)`;
      correct.add(index);
    }
    choices = texts.map((text, index) => ({ text, correct: correct.has(index) }));
  } else if (isObject(value)) {
    choices = Object.entries(value).map(([text, mark]) => ({ text, correct: mark === 1 || mark === true || mark === "1" }));
  } else {
    return "required: a list of choices or an object {choice: 1 | 0}";
  }
  if (choices.length < 2) return "needs at least two choices";
  if (!choices.some((choice) => choice.correct)) return "no choice is marked correct";
  return choices;
}

/** A record's place in the file, without its value (for a record replaced by a problem). */
function located(record: RawRecord): Pick<RawRecord, "line" | "at"> {
  return record.at === undefined ? { line: record.line } : { line: record.line, at: record.at };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

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
  mapping?: FieldMapping;
  /** The row size limit the file was read with (the run pass reads it the same way). */
  maxRowBytes?: number;
  /** The records path the file was read with (`data.items`), likewise. */
  recordsPath?: string;
}

const SHOWN_PROBLEMS = 20;

/**
 * A row's sample, or its problem as `file:line: field: problem`, the field named as in the file: the mapped
 * column (`goal`, not `prompt`), under the records path when one was followed (`data.items[2].goal`).
 */
function validate(file: string, record: RawRecord, mapping: FieldMapping | undefined): { sample?: Sample; problem?: InputError } {
  const at = (field: string | undefined) => fieldAt(record.at, field);
  if (record.problem) {
    return { problem: new InputError(file, record.line, at(record.problem.field), record.problem.message) };
  }
  const value = record.value ?? {};
  if ((value.conversation === undefined || value.conversation === null) && (value.prompt === null || (value.prompt === undefined && mapping?.prompt))) {
    // A missing or null prompt is named by its column, not as a missing conversation.
    const column = mapping?.prompt ?? "prompt";
    const problem = value.prompt === null ? "is null: the prompt must be text (or give a `conversation`)" : "required (named by prompt_field)";
    return { problem: new InputError(file, record.line, at(column), problem) };
  }
  const parsed = datasetRowSchema.safeParse(value);
  if (parsed.success) return { sample: rowToSample(parsed.data) };
  const issue = parsed.error.issues[0]!;
  const problem = issue.code !== "custom" && valueAt(value, issue.path) === undefined ? "required" : issue.message;
  return { problem: new InputError(file, record.line, at(fieldPath(columnPath(issue.path, mapping))), problem) };
}

/** A schema path with its first field renamed to the file's column it was mapped from. */
function columnPath(path: ReadonlyArray<PropertyKey>, mapping: FieldMapping | undefined): ReadonlyArray<PropertyKey> {
  const [field, ...rest] = path;
  if (field !== "prompt" && field !== "category" && field !== "subcategory" && field !== "id") return path;
  const column = mapping?.[field];
  return column && column !== "#line" ? [column, ...rest] : path;
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
export async function checkDataset(file: string, policy: BadRowPolicy, limit?: number, mapping?: FieldMapping, maxRowBytes?: number, recordsPath?: string): Promise<DatasetCheck> {
  formatOf(file);
  if (mapping?.format) recordFormatNamed(mapping.format);
  const hash = createHash("sha256");
  const seenIds = new CompactIdSet();
  const suspects: Array<{ line: number; id: string }> = [];
  const skippedLines = new Set<number>();
  const problems: InputError[] = [];
  let validRows = 0;
  let badRows = 0;
  const reject = (problem: InputError) => {
    badRows++;
    skippedLines.add(problem.line!);
    if (problems.length < SHOWN_PROBLEMS) problems.push(problem);
  };
  const reading = readingOf({ maxRowBytes, recordsPath, ...(mapping ? { mapping } : {}) });
  records: for await (const raw of readRecords(file, { ...reading, hash })) {
    // A record's rows pass or fail together: a bad one skips its record's line, and the line is one bad row.
    const checked = rowsOf(raw, mapping).map((record) => ({ record, ...validate(file, record, mapping) }));
    const problem = checked.find((entry) => entry.problem)?.problem;
    if (problem) {
      if (limit !== undefined && validRows >= limit) break;
      reject(problem);
      continue;
    }
    for (const { record, sample } of checked) {
      if (limit !== undefined && validRows >= limit) break records;
      if (!seenIds.add(sample!.id)) suspects.push({ line: record.line, id: sample!.id });
      else validRows++;
    }
  }
  // Hash hits are confirmed against the ids themselves (only the suspected ones are held as strings).
  for (const duplicate of await confirmDuplicates(file, suspects, mapping, reading)) {
    if (duplicate.firstLine === undefined) validRows++;
    else reject(new InputError(file, duplicate.line, "id", `duplicate id "${duplicate.id}" (first on line ${duplicate.firstLine})`));
  }
  problems.sort((a, b) => a.line! - b.line!);
  if (badRows > 0 && policy === "stop") throw new InputErrors(problems, badRows);
  if (validRows === 0) throw noTestCases(file, badRows, problems, mapping?.format);
  const sha256 = limit === undefined && formatOf(file) !== "parquet" ? hash.digest("hex") : await sha256File(file);
  const check: DatasetCheck = { file, sha256, validRows, badRows, skippedLines, problems };
  if (mapping) check.mapping = mapping;
  if (maxRowBytes !== undefined) check.maxRowBytes = maxRowBytes;
  if (recordsPath !== undefined) check.recordsPath = recordsPath;
  return check;
}

function readingOf(check: Pick<DatasetCheck, "maxRowBytes" | "recordsPath" | "mapping">): ReadRecordsOptions {
  const reading: ReadRecordsOptions = {};
  // A record format may read a whole .json object as its one record (BOLD's files).
  if (check.mapping?.format) reading.objectIsRecord = true;
  if (check.maxRowBytes !== undefined) reading.maxRowBytes = check.maxRowBytes;
  if (check.recordsPath !== undefined) reading.recordsPath = parseRecordsPath(check.recordsPath);
  return reading;
}

/** A run with nothing to run is a mistake in its input, not a run that finished with zero results. */
function noTestCases(file: string, badRows: number, problems: InputError[], format?: string): InputError {
  // A record format may keep no row of a file with records (a drift task split that matches nothing): say which.
  if (badRows === 0 && format) return new InputError(file, undefined, undefined, `has no test cases: record format ${format} gave no rows (${recordFormatNamed(format).description})`);
  if (badRows === 0) return new InputError(file, undefined, undefined, "has no test cases (no rows, or only blank lines)");
  const shown = problems
    .slice(0, 3)
    .map((problem) => `\n${problem.message}`)
    .join("");
  return new InputError(file, undefined, undefined, `has no test cases: all ${badRows} row${badRows === 1 ? " is" : "s are"} invalid (skipped by on_bad_row: skip)${shown}`);
}

async function confirmDuplicates(file: string, suspects: Array<{ line: number; id: string }>, mapping: FieldMapping | undefined, reading: ReadRecordsOptions) {
  if (suspects.length === 0) return [];
  const firstLines = new Map<string, number>(suspects.map((suspect) => [suspect.id, Infinity]));
  for await (const raw of readRecords(file, reading)) {
    for (const record of rowsOf(raw, mapping)) {
      const id = record.value?.id;
      if (typeof id !== "string" && typeof id !== "number") continue;
      const known = firstLines.get(String(id));
      if (known !== undefined && record.line < known) firstLines.set(String(id), record.line);
    }
  }
  return suspects.map((suspect) => {
    const firstLine = firstLines.get(suspect.id)!;
    return { ...suspect, firstLine: firstLine < suspect.line ? firstLine : undefined };
  });
}

/**
 * The run pass: streams the samples that passed `checkDataset`, in file order. `isFinished(id)` lets a
 * resume skip rows whose work is all done without validating them again, so it reaches new work fast.
 */
export async function* streamSamples(check: DatasetCheck, limit?: number, isFinished?: (id: string) => boolean | Promise<boolean>): AsyncGenerator<Sample> {
  let produced = 0;
  for await (const raw of readRecords(check.file, readingOf(check))) {
    if (check.skippedLines.has(raw.line)) continue;
    for (const record of check.mapping?.format ? rowsOf(raw, check.mapping) : [mapFields(raw, check.mapping)]) {
      if (limit !== undefined && produced >= limit) return;
      const rawId = record.value?.id;
      // Awaited only when the answer is a promise: a fresh run's plain `false` costs no microtask per row.
      const answer = isFinished && (typeof rawId === "string" || typeof rawId === "number") ? isFinished(String(rawId)) : false;
      if (answer === true || (answer !== false && (await answer))) {
        produced++;
        continue;
      }
      const { sample, problem } = validate(check.file, record, check.mapping);
      // The file changed between the two passes: refuse rather than run something unchecked.
      if (!sample) throw problem ?? new InputError(check.file, record.line, undefined, "changed while the run was starting");
      produced++;
      yield sample;
    }
  }
}
