import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { InputError, UserError } from "../errors.js";
import { decodeUtf8, NOT_UTF8 } from "./utf8.js";

// The one reader of a user's text file (config, suite, personas, prompts, schemas, labels): a file that cannot
// be read is the user's to fix, so it is reported as `PATH: cannot read the WHAT (ENOENT)` without a stack.
// Text is UTF-8 only (a leading byte-order mark is dropped): other bytes are an error naming the line.

/** Reads a UTF-8 text file; `what` names it in the error ("judge prompt", "personas file"). */
export async function readTextFile(file: string, what: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw unreadable(file, what, error);
  }
  return decode(file, bytes);
}

/** {@link readTextFile} for synchronous callers (config and suite files). */
export function readTextFileSync(file: string, what: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw unreadable(file, what, error);
  }
  return decode(file, bytes);
}

function decode(file: string, bytes: Buffer): string {
  return decodeUtf8(bytes, (line, column) => new InputError(file, line, undefined, NOT_UTF8(column)));
}

function unreadable(file: string, what: string, error: unknown): UserError {
  return new UserError(`${file}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
}
