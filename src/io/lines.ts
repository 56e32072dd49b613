import { createReadStream } from "node:fs";
import type { Hash } from "node:crypto";

export interface ReadLinesOptions {
  /** Stop before this byte offset (rows appended while reading are not read back). */
  endOffset?: number;
  /** Sees every byte read, e.g. to hash the file on the way. */
  hash?: Hash;
  /**
   * Receives a last line that has no "\n" instead of it being yielded (partials.jsonl: a row still being
   * written, or cut short by a kill).
   */
  onUnterminated?: (line: string) => void;
}

/**
 * Streams a text file's lines (without their "\n"), including a last line with no newline. Reads 1 MB at a
 * time, so a file of any size is never held whole. Errors (a missing file) surface from the iteration.
 */
export async function* readLines(file: string, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  if (options.endOffset === 0) return;
  const stream = createReadStream(file, { highWaterMark: 1 << 20, end: options.endOffset === undefined ? undefined : options.endOffset - 1 });
  if (options.hash) {
    const hash = options.hash;
    stream.on("data", (chunk) => hash.update(chunk as Buffer));
  }
  stream.setEncoding("utf8");
  let rest = "";
  for await (const chunk of stream as AsyncIterable<string>) {
    rest += chunk;
    let start = 0;
    let end: number;
    while ((end = rest.indexOf("\n", start)) !== -1) {
      yield rest.slice(start, end);
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) {
    if (options.onUnterminated) options.onUnterminated(rest);
    else yield rest;
  }
}
