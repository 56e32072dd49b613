import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError, UserError } from "../errors.js";
import { formatOf, readRecords } from "./readers.js";

// Stored answers of a baseline, for a pairwise comparison without calling the baseline model again: a file
// of {id, output} (JSONL, CSV, JSON or Parquet), AlpacaEval's reference outputs ({instruction, output}, matched
// by instruction, as AlpacaEval matches them), or an earlier run's folder (its results.parquet: test_id,
// raw_candidate). Matched to the items by test id; a missing item is an error that names it, never a skip.

export interface BaselineOutputs {
  /** The file the outputs were read from. */
  file: string;
  byId: Map<string, string>;
  /** AlpacaEval's reference files have no id: their outputs by instruction text. */
  byInstruction: Map<string, string>;
}

export interface BaselineOutputsOptions {
  /** From a run folder holding several models: the model_slug whose outputs are the baseline. */
  model?: string;
}

/** The file a path names: itself, or a run folder's results.parquet. */
export function baselineFile(path: string): string {
  if (!existsSync(path)) throw new UserError(`baseline_outputs: ${path} does not exist`);
  if (!statSync(path).isDirectory()) return path;
  const results = join(path, "results.parquet");
  if (!existsSync(results)) throw new UserError(`baseline_outputs: ${path} is a folder without results.parquet; give a run folder or a JSONL, CSV, JSON or Parquet file of {id, output}`);
  return results;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Reads every stored output. A run's rows that failed are left out (they have no output); two different
 * outputs for one item (a run of several models, epochs or personas) are an error naming the item and both
 * lines, since a baseline is one answer per item.
 */
export async function loadBaselineOutputs(path: string, options: BaselineOutputsOptions = {}): Promise<BaselineOutputs> {
  const file = baselineFile(path);
  const format = formatOf(file);
  if (format === "text") throw new UserError(`baseline_outputs: ${file} is text; give a JSONL, CSV, JSON or Parquet file of {id, output}, or a run folder`);
  const outputs: BaselineOutputs = { file, byId: new Map(), byInstruction: new Map() };
  const firstLine = new Map<string, number>();
  let runRows = 0;
  for await (const record of readRecords(file)) {
    if (record.problem) throw new InputError(file, record.line, record.problem.field, record.problem.message);
    const value = record.value!;
    const fromRun = "raw_candidate" in value && "test_id" in value;
    if (fromRun) {
      if (options.model !== undefined && value.model_slug !== options.model) continue;
      runRows++;
      if (value.status !== "ok" || typeof value.raw_candidate !== "string") continue;
    }
    const outputField = fromRun ? "raw_candidate" : "output";
    const output = value[outputField];
    if (typeof output !== "string") throw new InputError(file, record.line, outputField, output === undefined || output === null ? "required" : "must be text");
    const id = idOf(fromRun ? value.test_id : value.id);
    let key: string;
    let table: Map<string, string>;
    if (id !== undefined) [key, table] = [id, outputs.byId];
    else if (typeof value.instruction === "string") [key, table] = [`instruction:${value.instruction}`, outputs.byInstruction];
    else throw new InputError(file, record.line, "id", "required (or an instruction, as AlpacaEval's reference outputs have)");
    const earlier = table.get(key);
    if (earlier !== undefined && earlier !== output) {
      const hint = fromRun ? "; pick one model with plan_options.baseline_model, from a run of one epoch and no personas" : "";
      throw new InputError(
        file,
        record.line,
        fromRun ? "test_id" : id !== undefined ? "id" : "instruction",
        `item ${JSON.stringify(key.replace(/^instruction:/, ""))} has another output on line ${firstLine.get(key)}${hint}`,
      );
    }
    if (earlier === undefined) firstLine.set(key, record.line);
    table.set(key, output);
  }
  if (options.model !== undefined && runRows === 0) throw new UserError(`baseline_outputs: ${file} has no rows of model "${options.model}" (plan_options.baseline_model)`);
  if (outputs.byId.size === 0 && outputs.byInstruction.size === 0) throw new InputError(file, undefined, undefined, "has no baseline outputs");
  return outputs;
}

/** The stored output for an item: by its id, else by its instruction; a missing item is an error naming it. */
export function baselineOutputFor(outputs: BaselineOutputs, id: string, instruction: string): string {
  const output = outputs.byId.get(id) ?? outputs.byInstruction.get(`instruction:${instruction}`);
  if (output !== undefined) return output;
  throw new UserError(`baseline_outputs: ${outputs.file} has no output for item ${JSON.stringify(id)}`);
}

const loaded = new Map<string, Promise<BaselineOutputs>>();

/** Loads a baseline file once per process (every item of a run shares it), again when the file changes. */
export function cachedBaselineOutputs(path: string, options: BaselineOutputsOptions = {}): Promise<BaselineOutputs> {
  const absolute = resolve(path);
  let stamp = "missing";
  try {
    const file = statSync(absolute).isDirectory() ? join(absolute, "results.parquet") : absolute;
    const stats = statSync(file);
    stamp = `${stats.size}:${stats.mtimeMs}`;
  } catch {
    // Left to loadBaselineOutputs to say what is missing.
  }
  const key = JSON.stringify([absolute, options.model ?? null, stamp]);
  let pending = loaded.get(key);
  if (!pending) loaded.set(key, (pending = loadBaselineOutputs(path, options)));
  return pending;
}
