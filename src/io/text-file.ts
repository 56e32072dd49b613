import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { UserError } from "../errors.js";

// The one reader of a user's text file (config, suite, personas, prompts, schemas, labels): a file that cannot
// be read is the user's to fix, so it is reported as `PATH: cannot read the WHAT (ENOENT)` without a stack.

/** Reads a UTF-8 text file; `what` names it in the error ("judge prompt", "personas file"). */
export async function readTextFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw unreadable(file, what, error);
  }
}

/** {@link readTextFile} for synchronous callers (config and suite files). */
export function readTextFileSync(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw unreadable(file, what, error);
  }
}

function unreadable(file: string, what: string, error: unknown): UserError {
  return new UserError(`${file}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
}
