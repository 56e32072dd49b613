// UTF-8 only: every user file is decoded strictly, so a Latin-1 or UTF-16 file is reported with the line
// that is wrong instead of running on replacement characters ("�") nobody asked for.

const NEWLINE = 0x0a;

/** The error text for bytes that are not UTF-8, at a 1-based byte of the line. */
export const NOT_UTF8 = (byte: number) => `not valid UTF-8 (at byte ${byte} of the line); alignbench reads UTF-8 text only: convert the file (e.g. iconv -f latin1 -t utf-8)`;

/** Drops a UTF-8 byte-order mark (EF BB BF) at the start. */
export function stripBom(bytes: Buffer): Buffer {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** Where the first byte that is not UTF-8 is: its 1-based line and byte within that line. */
export function findInvalidUtf8(bytes: Buffer): { line: number; column: number } {
  let line = 1;
  let start = 0;
  while (start <= bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    const column = firstBadByte(bytes.subarray(start, end));
    if (column !== undefined) return { line, column };
    if (newline === -1) break;
    line++;
    start = newline + 1;
  }
  // A sequence cut short by the end of the bytes: the last line's end.
  return { line, column: bytes.length - start };
}

/**
 * The 1-based byte at which decoding `bytes` fails, or undefined. A prefix that decodes (in streaming mode,
 * where a character cut at the end is not yet an error) stays valid however it is cut shorter, so the first
 * failure is found by bisection with the same decoder the readers use.
 */
function firstBadByte(bytes: Buffer): number | undefined {
  if (decodes(bytes, false)) return undefined;
  let good = 0;
  // A character cut short by the end of the line counts as failing one byte past it.
  let bad = decodes(bytes, true) ? bytes.length + 1 : bytes.length;
  while (bad - good > 1 && bad <= bytes.length) {
    const middle = (good + bad) >>> 1;
    if (decodes(bytes.subarray(0, middle), true)) good = middle;
    else bad = middle;
  }
  // The byte that broke decoding may follow the start of its character ("é" in Latin-1, then "e"): name the
  // start, the first byte after the last whole character.
  let start = bad - 1;
  while (start > 0 && start > bad - 4 && !decodes(bytes.subarray(0, start), false)) start--;
  return start + 1;
}

function decodes(bytes: Buffer, stream: boolean): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes, { stream });
    return true;
  } catch {
    return false;
  }
}

/** Decodes a whole file strictly (a leading BOM dropped); `onBad` builds the error for a bad line and byte. */
export function decodeUtf8(bytes: Buffer, onBad: (line: number, column: number) => Error): string {
  const body = stripBom(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    const bad = findInvalidUtf8(body);
    throw onBad(bad.line, bad.column);
  }
}
