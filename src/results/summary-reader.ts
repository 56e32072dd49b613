import { readFileSync } from "node:fs";
import { SUMMARY_SCHEMA_VERSION, type RunSummary } from "../metrics/summary-types.js";
import { parseJson, validateSummary } from "./record-schemas.js";

/**
 * A run's summary.json, checked (record-schemas.ts). Undefined when there is none, or when it is of an older
 * format (0.1 wrote version 1): readers then rebuild the summary from the rows. A damaged file, or one a
 * newer alignbench wrote, is a UserError naming the file (and field).
 */
export function readSummary(file: string): RunSummary | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return validateSummary(file, parseJson(file, undefined, text), SUMMARY_SCHEMA_VERSION);
}
