import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError } from "../errors.js";
import { RESULT_SCHEMA_VERSION } from "./record.js";
import { validateRow } from "./record-schemas.js";
import type { StateStore } from "./state-store.js";

/** One line of partials.jsonl that cannot be trusted, and why. */
export interface DamagedLine {
  /** 1-based line number in partials.jsonl. */
  line: number;
  /** Byte offset where the line starts. */
  offset: number;
  problem: string;
}

export interface IntegrityCheck {
  damaged: DamagedLine[];
  /** Keys whose rows cannot be trusted: every row of theirs is set aside and they run again. */
  rerun: Set<string>;
  /** Offsets of the lines to set aside whatever their key (those that are not a valid row). */
  drop: Set<number>;
}

/** A line of the file with where it starts. */
export interface FileLine {
  number: number;
  offset: number;
  text: string;
}

const CHUNK = 1 << 20;

/** The whole lines of a file (a last line with no newline is left out: the recovery cuts it), with their byte offsets. */
export function* fileLines(file: string): Generator<FileLine> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    // Up to the size it has now: a device or a file still growing is not read without end.
    const size = fstatSync(fd).size;
    let carry = Buffer.alloc(0);
    let position = 0;
    let offset = 0;
    let number = 0;
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (read <= 0) return;
      position += read;
      const data = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, read)]) : buffer.subarray(0, read);
      let start = 0;
      let newline: number;
      while ((newline = data.indexOf(10, start)) !== -1) {
        number++;
        yield { number, offset, text: data.toString("utf8", start, newline) };
        offset += newline + 1 - start;
        start = newline + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
  } finally {
    closeSync(fd);
  }
}

type Mark = [key: string, attempts: number, offset: number];

/**
 * Checks partials.jsonl against state.sqlite in one pass, walking the file and the marks (ordered by
 * offset) side by side: every mark must point at the start of a whole, valid row of its own key and
 * attempt, and every other line must be a valid earlier attempt of a key the store knows. The store is the
 * index of what is done, so a disagreement is damage (a disk error, an edit): the keys concerned are named
 * so they run again rather than being silently dropped (a mark on a broken row) or counted twice (a row
 * copied). A line cut short at the very end is not damage: the recovery after a kill removes it first.
 */
export function checkPartials(file: string, store: StateStore): IntegrityCheck {
  const damaged: DamagedLine[] = [];
  const rerun = new Set<string>();
  const drop = new Set<number>();
  const marks = store.marksByOffset()[Symbol.iterator]();
  let next = marks.next();
  const damage = (line: FileLine, problem: string, ...keys: Array<string | undefined>) => {
    damaged.push({ line: line.number, offset: line.offset, problem });
    for (const key of keys) if (key !== undefined) rerun.add(key);
  };
  let previous: FileLine | undefined;
  for (const line of fileLines(file)) {
    // Marks before this line's start point inside the previous line: not at a row.
    while (!next.done && next.value[2] < line.offset) {
      const [key, , offset] = next.value;
      damage(previous ?? line, `state.sqlite places the row of ${JSON.stringify(key)} at byte ${offset}, which is not the start of a row`, key);
      next = marks.next();
    }
    const marked: Mark[] = [];
    while (!next.done && next.value[2] === line.offset) {
      marked.push(next.value);
      next = marks.next();
    }
    previous = line;
    if (!line.text.trim()) {
      for (const [key] of marked) damage(line, `state.sqlite places the row of ${JSON.stringify(key)} on an empty line`, key);
      continue;
    }
    const row = parseRow(file, line);
    if (typeof row === "string") {
      drop.add(line.offset);
      damage(line, row, ...marked.map(([key]) => key));
      continue;
    }
    if (marked.length > 0) {
      for (const [key, attempts] of marked) {
        if (key !== row.key) damage(line, `state.sqlite expects ${JSON.stringify(key)} here, the row is ${JSON.stringify(row.key)}`, key, row.key);
        else if (attempts !== row.attempt) damage(line, `state.sqlite expects attempt ${attempts} of ${JSON.stringify(key)} here, the row is attempt ${row.attempt}`, key);
      }
      continue;
    }
    // Not the latest attempt of any key: an earlier attempt, which the store must know of and have superseded.
    const state = store.lookup(row.key);
    if (!state) damage(line, `the row's key ${JSON.stringify(row.key)} is not in state.sqlite`, row.key);
    else if (state.rowOffset !== null && row.attempt >= state.attempts)
      damage(line, `attempt ${row.attempt} of ${JSON.stringify(row.key)} is here and, per state.sqlite, at byte ${state.rowOffset}`, row.key);
  }
  for (; !next.done; next = marks.next()) {
    const [key, , offset] = next.value;
    const line = previous ?? { number: 1, offset: 0, text: "" };
    damage(line, `state.sqlite places the row of ${JSON.stringify(key)} at byte ${offset}, past the end of the file`, key);
  }
  return { damaged, rerun, drop };
}

/** The row's key and attempt, or what is wrong with the line. */
function parseRow(file: string, line: FileLine): { key: string; attempt: number } | string {
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  try {
    const row = validateRow(file, line.number, value, RESULT_SCHEMA_VERSION);
    return { key: row.key, attempt: row.attempt };
  } catch (error) {
    // A row written by a newer alignbench is not damage: that refusal stops the session as it is.
    if (error instanceof InputError) return error.field ? `${error.field}: ${error.problem}` : error.problem;
    throw error;
  }
}
