import { createReadStream } from "node:fs";
import type { Hash } from "node:crypto";
import { InputError } from "../errors.js";
import { findInvalidUtf8, NOT_UTF8, stripBom } from "./utf8.js";

export interface ReadLinesOptions {
  /** Stop before this byte offset (rows appended while reading are not read back). */
  endOffset?: number;
  /** Sees every byte read, e.g. to hash the file on the way. */
  hash?: Hash;
  /**
   * Receives a last line that has no "\n" instead of it being yielded (partials.jsonl: a row still being
   * written, or cut short by a kill). It is decoded leniently: a kill can cut a character in half.
   */
  onUnterminated?: (line: string) => void;
  /**
   * A line longer than this many bytes (without its "\n") is an error naming it, raised as soon as the
   * line passes the limit: a file that is one endless line is never held whole.
   */
  maxLineBytes?: number;
  /** Says what to do about a line over `maxLineBytes` ("raise it with --max-row-bytes"). */
  limitHint?: string;
}

const NEWLINE = 0x0a;
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Streams a UTF-8 text file as blocks of whole lines: each block ends with "\n", except a last line that has
 * none. Bytes that are not UTF-8 are an error naming the file and line (never replacement characters), and
 * a UTF-8 byte-order mark at the start is dropped. Reads 1 MB at a time; every block is decoded in one call
 * (a "\n" never falls inside a multi-byte character, so cutting after one is safe).
 */
export async function* readTextBlocks(file: string, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  if (options.endOffset === 0) return;
  const stream = createReadStream(file, { highWaterMark: 1 << 20, end: options.endOffset === undefined ? undefined : options.endOffset - 1 });
  if (options.hash) {
    const hash = options.hash;
    stream.on("data", (chunk) => hash.update(chunk as Buffer));
  }
  const max = options.maxLineBytes ?? Infinity;
  const tooLong = (line: number) => new InputError(file, line, undefined, `the line is longer than ${formatBytes(max)}${options.limitHint ? ` (${options.limitHint})` : ""}`);
  // The bytes of the current, unfinished line, carried from earlier chunks (never more than `max`).
  let carry: Buffer[] = [];
  let carryBytes = 0;
  /** The 1-based number of the line the carry belongs to. */
  let line = 1;
  let first = true;
  for await (const read of stream as AsyncIterable<Buffer>) {
    let chunk = read;
    if (first) {
      chunk = stripBom(chunk);
      first = false;
    }
    let newlines = 0;
    let lineStart = 0;
    let at: number;
    while ((at = chunk.indexOf(NEWLINE, lineStart)) !== -1) {
      if ((newlines === 0 ? carryBytes : 0) + at - lineStart > max) throw tooLong(line + newlines);
      newlines++;
      lineStart = at + 1;
    }
    if (newlines === 0) {
      carryBytes += chunk.length;
      if (carryBytes > max) throw tooLong(line);
      carry.push(chunk);
      continue;
    }
    const whole = chunk.subarray(0, lineStart);
    const block = carry.length > 0 ? Buffer.concat([...carry, whole]) : whole;
    yield decodeLines(file, block, line);
    line += newlines;
    const rest = chunk.subarray(lineStart);
    carryBytes = rest.length;
    if (carryBytes > max) throw tooLong(line);
    carry = rest.length > 0 ? [rest] : [];
  }
  if (carryBytes === 0) return;
  const tail = carry.length === 1 ? carry[0]! : Buffer.concat(carry);
  if (options.onUnterminated) options.onUnterminated(lenient.decode(tail));
  else yield decodeLines(file, tail, line);
}

/**
 * Streams a text file's lines (without their "\n"), including a last line with no newline, under the rules
 * of {@link readTextBlocks}. Errors (a missing file, bytes that are not UTF-8, a line over the limit)
 * surface from the iteration.
 */
export async function* readLines(file: string, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  for await (const block of readTextBlocks(file, options)) {
    let start = 0;
    let end: number;
    while ((end = block.indexOf("\n", start)) !== -1) {
      yield block.slice(start, end);
      start = end + 1;
    }
    if (start < block.length) yield block.slice(start);
  }
}

/** Decodes whole lines strictly; on a bad byte, finds which line holds it (rare, so only then). */
function decodeLines(file: string, bytes: Buffer, firstLine: number): string {
  try {
    return strict.decode(bytes);
  } catch {
    const bad = findInvalidUtf8(bytes);
    throw new InputError(file, firstLine + bad.line - 1, undefined, NOT_UTF8(bad.column));
  }
}

/** 10485760 → "10 MB" (binary multiples, as --max-row-bytes reads them). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GB", 1 << 30],
    ["MB", 1 << 20],
    ["KB", 1 << 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
