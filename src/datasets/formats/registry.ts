import { NamedRegistry } from "../../common/named-registry.js";
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

const FORMATS = new NamedRegistry<RecordFormat>("record format", "record formats", (format) => format.name, BUILTIN);

/** Adds a record format by its name (a built-in one here, or a plug-in's). */
export function registerRecordFormat(format: RecordFormat): void {
  FORMATS.register(format);
}

export function recordFormatNames(): string[] {
  return FORMATS.names();
}

/** The record format a suite or config names, or a clear error with the nearest name. */
export function recordFormatNamed(name: string): RecordFormat {
  return FORMATS.named(name);
}
