import { inertJson, inertText } from "../common/inert-text.js";

// The CLI's only writers of messages and tables: whatever a command prints may carry text from a dataset,
// a model or a run folder, so it is made inert here (see inert-text.ts), at the boundary, once.

/** Writes text to stdout with control characters and escape sequences shown as escapes. */
export function printOut(text: string): void {
  process.stdout.write(inertText(text));
}

/** Writes text to stderr with control characters and escape sequences shown as escapes. */
export function printErr(text: string): void {
  process.stderr.write(inertText(text));
}

/** Prints a value as indented JSON on stdout (C1 and bidi characters as \u escapes, so it still parses). */
export function printJson(value: unknown): void {
  process.stdout.write(inertJson(JSON.stringify(value, null, 2)) + "\n");
}
