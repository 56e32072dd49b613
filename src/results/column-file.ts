import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from "node:fs";
import { CodedColumn } from "./columns.js";
import { asWriteFailure, removeQuietly } from "./write-failure.js";

/**
 * What a column file holds: numbers, typed arrays, string arrays, coded columns, and maps and plain objects
 * of these. Any structure of them is stored as it is, so a column added to the item index is stored with no
 * change here.
 */
export type Stored = number | Float64Array | Float32Array | Int32Array | Int8Array | string[] | TextColumn | CodedColumn | Map<string, Stored> | { [name: string]: Stored };

/** Read-only texts by row: a string array, or a column file's TextColumn. */
export interface Texts {
  readonly length: number;
  at(index: number): string | undefined;
}

/**
 * A long text column as read from a column file: one decoded string and where each row's text starts. A
 * row's string is cut out when asked for, so opening a 400,000-row run makes one string, not 400,000 (whose
 * allocation and garbage collection cost more than the rest of reading the file).
 */
export class TextColumn implements Texts {
  constructor(
    private readonly text: string,
    private readonly offsets: Float64Array | Int32Array,
  ) {}

  get length(): number {
    return this.offsets.length - 1;
  }

  /** As Array.prototype.at: a fraction is cut to an integer, a negative index counts from the end. */
  at(index: number): string | undefined {
    index = Math.trunc(index) || 0;
    if (index < 0) index += this.length;
    if (!(index >= 0 && index < this.length)) return undefined;
    return this.text.slice(this.offsets[index]!, this.offsets[index + 1]!);
  }

  toArray(): string[] {
    return Array.from({ length: this.length }, (_, index) => this.at(index)!);
  }
}

/** String arrays up to this length are read as arrays; longer ones as a TextColumn. */
const LAZY_TEXTS = 4096;

type Node =
  | { type: "number"; value: number }
  | { type: "f64" | "f32" | "i32" | "i8"; section: number }
  /** `width` 4: the offsets are 32-bit (every text column shorter than 2³¹ UTF-16 units); else 64-bit floats. */
  | { type: "strings"; offsets: number; text: number; width?: 4 | 8 }
  | { type: "coded"; values: Node; codes: number }
  | { type: "map"; entries: Array<[string, Node]> }
  | { type: "object"; fields: Record<string, Node> };

interface Header<Meta> {
  meta: Meta;
  /** Byte length of each section of the body, in order; each starts on an 8-byte boundary. */
  sections: number[];
  /** SHA-256 of the rest of the header and of the sections, in order: a damaged file is never read as columns. */
  sha256: string;
  root: Node;
}

const MAGIC = Buffer.from("ABCOLS\u0000\u0001", "latin1");
const ALIGN = 8;
const padded = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;

/** Why a column file was not read: missing, damaged, or not what the caller expects. */
export class ColumnFileProblem extends Error {
  override readonly name = "ColumnFileProblem";
}

/**
 * Writes `value` and `meta` to `file` atomically: beside it first, then renamed, so a reader sees the old
 * file or the whole new one. Layout: magic, header length, JSON header, then the raw sections 8-byte aligned
 * so typed arrays are read without copies.
 */
export function writeColumnFile<Meta>(file: string, meta: Meta, value: Stored): void {
  const sections: Buffer[] = [];
  const root = encode(value, sections);
  const sizes = sections.map((section) => section.byteLength);
  const hash = createHash("sha256").update(JSON.stringify([meta, sizes, root]));
  for (const section of sections) hash.update(section);
  const header: Header<Meta> = { meta, sections: sizes, sha256: hash.digest("hex"), root };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const start = Buffer.alloc(16);
  MAGIC.copy(start, 0);
  start.writeUInt32LE(json.byteLength, 8);
  const temporary = `${file}.tmp`;
  try {
    const fd = openSync(temporary, "w");
    try {
      writeSync(fd, start);
      writeSync(fd, json);
      writeSync(fd, Buffer.alloc(padded(16 + json.byteLength) - 16 - json.byteLength));
      for (const section of sections) {
        writeSync(fd, section);
        writeSync(fd, Buffer.alloc(padded(section.byteLength) - section.byteLength));
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    removeQuietly(temporary);
    throw asWriteFailure(file, error);
  }
}

/**
 * Reads a column file whole. `accept` sees the header's `meta` first and says why the file does not fit
 * (stale, other version), so a stale file's body is not even read; then the body is checked against its
 * checksum and every reference in the header. Throws a ColumnFileProblem saying what is wrong.
 */
export function readColumnFile<Meta>(file: string, accept: (meta: Meta) => string | undefined): { meta: Meta; value: Stored } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    throw new ColumnFileProblem(`cannot open it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    const fileBytes = fstatSync(fd).size;
    const start = readExactly(fd, 0, 16, fileBytes);
    if (!start.subarray(0, 8).equals(MAGIC)) throw new ColumnFileProblem("not a column file of this format");
    const headerBytes = start.readUInt32LE(8);
    let header: Header<Meta>;
    try {
      header = JSON.parse(readExactly(fd, 16, headerBytes, fileBytes).toString("utf8")) as Header<Meta>;
    } catch (error) {
      if (error instanceof ColumnFileProblem) throw error;
      throw new ColumnFileProblem("its header is not JSON");
    }
    if (!header || typeof header !== "object" || !Array.isArray(header.sections) || typeof header.sha256 !== "string") throw new ColumnFileProblem("its header is incomplete");
    const refused = accept(header.meta);
    if (refused) throw new ColumnFileProblem(refused);
    // The header's own content is checked too (parsing and printing JSON again gives the same text).
    const hash = createHash("sha256").update(JSON.stringify([header.meta, header.sections, header.root]));
    const sections: Buffer[] = [];
    let position = padded(16 + headerBytes);
    for (const bytes of header.sections) {
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ColumnFileProblem("its header lists a section of no size");
      // Each section in a buffer of its own, so the texts' bytes can go once decoded.
      const section = readExactly(fd, position, bytes, fileBytes);
      hash.update(section);
      sections.push(section);
      position += padded(bytes);
    }
    if (position !== padded(fileBytes)) throw new ColumnFileProblem("it is longer than its header says");
    if (hash.digest("hex") !== header.sha256) throw new ColumnFileProblem("its content does not match its checksum (the file is damaged)");
    return { meta: header.meta, value: decode(header.root, sections) };
  } finally {
    closeSync(fd);
  }
}

function readExactly(fd: number, position: number, bytes: number, fileBytes: number): Buffer {
  if (position + bytes > fileBytes) throw new ColumnFileProblem("it is cut short");
  // A fresh ArrayBuffer per read: its offset is 0, so typed arrays can view it.
  const buffer = Buffer.from(new ArrayBuffer(bytes));
  let done = 0;
  while (done < bytes) {
    const read = readSync(fd, buffer, done, bytes - done, position + done);
    if (read <= 0) throw new ColumnFileProblem("it is cut short");
    done += read;
  }
  return buffer;
}

function encode(value: Stored, sections: Buffer[]): Node {
  const add = (bytes: Buffer) => sections.push(bytes) - 1;
  const raw = (array: Float64Array | Float32Array | Int32Array | Int8Array) => add(Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`a column file stores finite numbers, not ${value}`);
    return { type: "number", value };
  }
  if (value instanceof Float64Array) return { type: "f64", section: raw(value) };
  if (value instanceof Float32Array) return { type: "f32", section: raw(value) };
  if (value instanceof Int32Array) return { type: "i32", section: raw(value) };
  if (value instanceof Int8Array) return { type: "i8", section: raw(value) };
  if (value instanceof CodedColumn) return { type: "coded", values: encode(value.values, sections), codes: raw(value.codes) };
  if (value instanceof TextColumn) return encode(value.toArray(), sections);
  if (Array.isArray(value)) {
    // One text and the offsets (in UTF-16 units) where each string starts: decoding is one call, then slices.
    let total = 0;
    for (const text of value) {
      if (typeof text !== "string") throw new Error("a column file stores arrays of strings only");
      total += text.length;
    }
    const offsets = total < 2 ** 31 ? new Int32Array(value.length + 1) : new Float64Array(value.length + 1);
    for (let index = 0; index < value.length; index++) offsets[index + 1] = offsets[index]! + value[index]!.length;
    return { type: "strings", offsets: raw(offsets), text: add(Buffer.from(value.join(""), "utf8")), width: offsets instanceof Int32Array ? 4 : 8 };
  }
  if (value instanceof Map) return { type: "map", entries: [...value].map(([key, entry]) => [key, encode(entry, sections)]) };
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return { type: "object", fields: Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, encode(entry, sections)])) };
  }
  throw new Error(`a column file cannot store ${Object.prototype.toString.call(value)}`);
}

/** The value a node describes; every reference and size is checked, so a damaged header is refused, not trusted. */
function decode(node: Node, sections: Buffer[]): Stored {
  const section = (index: number, size: number): Buffer => {
    const bytes = Number.isInteger(index) ? sections[index] : undefined;
    if (!bytes || bytes.byteLength % size !== 0) throw new ColumnFileProblem("its header refers to a missing or misshapen section");
    return bytes;
  };
  const view = <T>(make: new (buffer: ArrayBuffer, offset: number, length: number) => T, index: number, size: number): T => {
    const bytes = section(index, size);
    return new make(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / size);
  };
  if (!node || typeof node !== "object") throw new ColumnFileProblem("its header is misshapen");
  switch (node.type) {
    case "number":
      if (typeof node.value !== "number") throw new ColumnFileProblem("its header is misshapen");
      return node.value;
    case "f64":
      return view(Float64Array, node.section, 8);
    case "f32":
      return view(Float32Array, node.section, 4);
    case "i32":
      return view(Int32Array, node.section, 4);
    case "i8":
      return view(Int8Array, node.section, 1);
    case "strings": {
      const offsets = node.width === 4 ? view(Int32Array, node.offsets, 4) : view(Float64Array, node.offsets, 8);
      const text = section(node.text, 1).toString("utf8");
      if (offsets.length === 0 || offsets[0] !== 0 || offsets[offsets.length - 1] !== text.length) throw new ColumnFileProblem("a text column's offsets do not match its text");
      for (let index = 1; index < offsets.length; index++) {
        if (!(offsets[index]! >= offsets[index - 1]!)) throw new ColumnFileProblem("a text column's offsets do not match its text");
      }
      const column = new TextColumn(text, offsets);
      return column.length > LAZY_TEXTS ? column : column.toArray();
    }
    case "coded": {
      const decoded = decode(node.values, sections);
      const values = decoded instanceof TextColumn ? decoded.toArray() : decoded;
      const codes = view(Int32Array, node.codes, 4);
      if (!Array.isArray(values)) throw new ColumnFileProblem("its header is misshapen");
      for (const code of codes) if (code < -1 || code >= values.length) throw new ColumnFileProblem("a coded column has a code with no value");
      return CodedColumn.of(values, codes);
    }
    case "map":
      if (!Array.isArray(node.entries)) throw new ColumnFileProblem("its header is misshapen");
      return new Map(node.entries.map(([key, entry]) => [String(key), decode(entry, sections)]));
    case "object": {
      if (!node.fields || typeof node.fields !== "object") throw new ColumnFileProblem("its header is misshapen");
      // No prototype keys from the file: a field named __proto__ stays a field.
      const out: Record<string, Stored> = {};
      for (const [key, entry] of Object.entries(node.fields)) Object.defineProperty(out, key, { value: decode(entry, sections), enumerable: true, writable: true, configurable: true });
      return out;
    }
    default:
      throw new ColumnFileProblem("its header is misshapen");
  }
}
