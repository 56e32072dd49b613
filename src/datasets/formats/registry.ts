import { UserError } from "../../errors.js";
import { nearest } from "../../config/suggest.js";
import { boldFormat } from "./bold.js";
import type { RecordFormat } from "./types.js";
import { hhRlhf } from "./hh-rlhf.js";
import { alpacaFormat } from "./alpaca.js";
import { truthfulqaFormat } from "./truthfulqa.js";
import { bbqFormat } from "./bbq.js";
import { beavertailsFormat } from "./beavertails.js";
import { driftTextFormat } from "./drift-text.js";

export type { RecordFormat, RecordProblem } from "./types.js";

/** The built-in record formats: one line each; each is one file in this folder. */
const BUILTIN: RecordFormat[] = [hhRlhf, alpacaFormat, truthfulqaFormat, bbqFormat, boldFormat, beavertailsFormat, driftTextFormat];

const FORMATS = new Map<string, RecordFormat>(BUILTIN.map((format) => [format.name, format]));

/** Adds a record format by its name (a built-in one here, or a plug-in's). */
export function registerRecordFormat(format: RecordFormat): void {
  FORMATS.set(format.name, format);
}

export function recordFormatNames(): string[] {
  return [...FORMATS.keys()];
}

/** The record format a suite or config names, or a clear error with the nearest name. */
export function recordFormatNamed(name: string): RecordFormat {
  const format = FORMATS.get(name);
  if (format) return format;
  const near = nearest(name, recordFormatNames());
  const known = recordFormatNames();
  throw new UserError(`unknown record format "${name}"${near ? ` (did you mean "${near}"?)` : ""}; record formats: ${known.length > 0 ? known.join(", ") : "(none registered)"}`);
}
