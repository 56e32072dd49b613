import { InputError, InputErrors, UserError } from "../errors.js";
import { formatOf, readRecords, type RawRecord } from "./readers.js";
import { fieldAt, parseRecordsPath } from "./records-path.js";
import type { LabelledItem } from "./labels.js";

// Any labelled file for `alignbench judge-eval`: CSV, JSONL, JSON or Parquet, read by the dataset readers,
// with a column mapping for files whose columns are named otherwise.

/** Which columns hold what; each defaults to the name in brackets. */
export interface LabelMapping {
  /** The behaviour the classifier judges against ([BEHAVIOR]) (`behavior`). */
  behavior?: string;
  /** What was sent to the model, e.g. a jailbreak wrapping the behaviour (`prompt`); the behaviour when the file has no behaviour column. */
  prompt?: string;
  /** The model's response (`generation`, else `response`). */
  response?: string;
  /** The label column(s) (`label`, else `labels`): each a label or a list of them; several labels are votes, decided by majority. */
  label?: string[];
  context?: string;
  category?: string;
  /** The id column (`id`, else the row number); `#line` numbers rows by their line. */
  id?: string;
}

export interface LabelledFileOptions {
  mapping?: LabelMapping;
  /** Where the rows are in a .json document, or each JSONL row's fields (see the dataset's records path). */
  recordsPath?: string;
  maxRowBytes?: number;
}

export interface LabelledFile {
  items: LabelledItem[];
  /** Rows whose votes split evenly: they have no reference label, so they are left out (and listed), not guessed. */
  ties: string[];
  /** Whether any row had more than one vote (the reference is then a majority). */
  majority: boolean;
}

const SHOWN_PROBLEMS = 20;
const LABEL_FORMS = "true/false, yes/no or 1/0";

/** A label as 1 (an instance of the behaviour) or 0, or undefined when the value is not one of the accepted forms. */
export function readLabel(value: unknown): 0 | 1 | undefined {
  if (value === true || value === 1) return 1;
  if (value === false || value === 0) return 0;
  if (typeof value !== "string") return undefined;
  const text = value.trim().toLowerCase();
  if (text === "true" || text === "yes" || text === "1") return 1;
  if (text === "false" || text === "no" || text === "0") return 0;
  return undefined;
}

/** The votes in one label cell: a label, a list of labels, or (CSV, Parquet text) a list written as JSON. */
function votesIn(cell: unknown): Array<0 | 1> | string {
  let value = cell;
  if (typeof value === "string" && value.trim().startsWith("[")) {
    try {
      value = JSON.parse(value);
    } catch {
      return `not valid JSON (a list of labels: ${LABEL_FORMS})`;
    }
  }
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0) return `an empty list: expected at least one label (${LABEL_FORMS})`;
  const votes: Array<0 | 1> = [];
  for (const entry of entries) {
    const vote = readLabel(entry);
    if (vote === undefined) return entry === null || entry === undefined || entry === "" ? `required: a label (${LABEL_FORMS})` : `expected ${LABEL_FORMS}, not ${JSON.stringify(entry)}`;
    votes.push(vote);
  }
  return votes;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}

/** The column a field is read from: the mapped one, else the first default the row has (else the first default). */
function columnFor(row: Record<string, unknown>, mapped: string | undefined, defaults: string[]): string {
  return mapped ?? defaults.find((name) => row[name] !== undefined) ?? defaults[0]!;
}

/** One row as a labelled item, or its problem (the field named as in the file). */
function readRow(record: RawRecord, mapping: LabelMapping): { item?: LabelledItem; votes?: Array<0 | 1>; problem?: { field?: string; message: string } } {
  if (record.problem) return { problem: record.problem };
  const row = record.value!;
  const promptColumn = mapping.prompt ?? "prompt";
  // The behaviour column comes first; a file with only prompts is judged against the prompt.
  const behaviorField = mapping.behavior ?? (row.behavior !== undefined ? "behavior" : promptColumn);
  const behavior = row[behaviorField];
  if (typeof behavior !== "string" || behavior.trim() === "") {
    const what = behavior === null ? "is null" : behavior === undefined ? "required" : typeof behavior === "string" ? "is empty" : "must be text";
    const hint = mapping.behavior === undefined && behavior === undefined ? " (the behaviour: a behavior column or --behavior-field, else the prompt: a prompt column or --prompt-field)" : "";
    return { problem: { field: behaviorField, message: `${what}${hint}` } };
  }
  const prompt = row[promptColumn];
  const responseColumn = columnFor(row, mapping.response, ["generation", "response"]);
  const response = row[responseColumn];
  if (typeof response !== "string") {
    const what = response === null ? "is null" : response === undefined ? "required" : "must be text";
    const hint = mapping.response === undefined ? " (the response; name its column with --response-field)" : "";
    return { problem: { field: responseColumn, message: `${what}${hint}` } };
  }
  const labelColumns = mapping.label ?? [columnFor(row, undefined, ["label", "labels"])];
  const votes: Array<0 | 1> = [];
  for (const column of labelColumns) {
    const cell = votesIn(row[column]);
    if (typeof cell === "string") return { problem: { field: column, message: cell } };
    votes.push(...cell);
  }
  const idColumn = mapping.id ?? "id";
  const id = idColumn === "#line" ? String(record.line) : (text(row[idColumn]) ?? (mapping.id ? undefined : String(record.line)));
  if (id === undefined || id === "") return { problem: { field: idColumn, message: "required (named by --id-field)" } };
  const item: LabelledItem = { id, behavior, generation: response, category: text(row[mapping.category ?? "category"]) || "uncategorized", label: 0 };
  if (typeof prompt === "string" && behaviorField !== promptColumn && prompt !== behavior) item.prompt = prompt;
  const context = row[mapping.context ?? "context"];
  if (typeof context === "string" && context.trim()) item.context = context;
  return { item, votes };
}

/**
 * Reads a labelled file. Several votes give the majority label; an even split (1 yes, 1 no) has no majority
 * and the row is left out and listed in `ties`. Bad rows are all reported, with file, line and field, and stop.
 */
export async function loadLabelledFile(file: string, options: LabelledFileOptions = {}): Promise<LabelledFile> {
  const format = formatOf(file);
  if (format === "text") throw new UserError(`${file}: a labels file is CSV, JSONL, JSON or Parquet, not text`);
  const mapping = options.mapping ?? {};
  const reading: Parameters<typeof readRecords>[1] = {};
  if (options.maxRowBytes !== undefined) reading.maxRowBytes = options.maxRowBytes;
  if (options.recordsPath !== undefined) reading.recordsPath = parseRecordsPath(options.recordsPath);
  const items: LabelledItem[] = [];
  const ties: string[] = [];
  const problems: InputError[] = [];
  let bad = 0;
  let majority = false;
  try {
    for await (const record of readRecords(file, reading)) {
      const { item, votes, problem } = readRow(record, mapping);
      if (problem) {
        bad++;
        if (problems.length < SHOWN_PROBLEMS) problems.push(new InputError(file, record.line, fieldAt(record.at, problem.field), problem.message));
        continue;
      }
      const yes = votes!.filter((vote) => vote === 1).length;
      if (votes!.length > 1) majority = true;
      if (yes * 2 === votes!.length) ties.push(item!.id);
      else items.push({ ...item!, label: yes * 2 > votes!.length ? 1 : 0 });
    }
  } catch (error) {
    if (error instanceof UserError && format === "json" && options.recordsPath === undefined && /must be an array of objects/.test(error.message)) {
      throw new UserError(`${error.message}; HarmBench's classifier_val_set format (an object of behaviour ids) is read with --behaviors (a HarmBench behaviours CSV)`);
    }
    throw error;
  }
  if (bad > 0) throw new InputErrors(problems, bad);
  if (items.length === 0)
    throw new InputError(file, undefined, undefined, ties.length > 0 ? `has no labelled generations with a majority label (all ${ties.length} tie)` : "has no labelled generations");
  return { items, ties, majority };
}
