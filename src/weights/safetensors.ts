import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { InputError, UserError } from "../errors.js";
import { DTYPE_BYTES, isDType, type DType } from "./dtypes.js";

/**
 * The safetensors format (https://huggingface.co/docs/safetensors, "Format"): an unsigned 64-bit little-endian
 * header length N, N bytes of JSON — `{"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]},
 * …, "__metadata__": {"key": "text"}}` — then the byte buffer, each tensor's row-major little-endian elements
 * at [BEGIN, END) relative to the buffer's start. Only the header is read here; tensors are read at offsets.
 */
export interface SafetensorsTensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute byte offset of the first element in the file. */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
}

// The reference implementation refuses headers over 100 MB: a larger one is a damaged or hostile file.
const MAX_HEADER_BYTES = 100_000_000;

export function elementCount(shape: number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function readExactly(fd: number, length: number, position: number, file: string, what: string): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const got = readSync(fd, buffer, done, length - done, position + done);
    if (got === 0) throw new InputError(file, undefined, undefined, `not a complete safetensors file (ends inside its ${what})`);
    done += got;
  }
  return buffer;
}

/** Reads and checks a safetensors file's header: dtypes, shapes and byte ranges that fit the file. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new InputError(file, undefined, undefined, "not a safetensors file (shorter than its 8-byte header length)");
    const declared = readExactly(fd, 8, 0, file, "header length").readBigUInt64LE(0);
    if (declared > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
      throw new InputError(file, undefined, undefined, `not a safetensors file: its header length ${declared} is larger than ${declared > BigInt(MAX_HEADER_BYTES) ? "100 MB" : "the file"}`);
    }
    const headerLength = Number(declared);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readExactly(fd, headerLength, 8, file, "header").toString("utf8"));
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new InputError(file, undefined, undefined, `not a safetensors file: its header is not JSON (${(error as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InputError(file, undefined, "header", "must be a JSON object");
    const dataStart = 8 + headerLength;
    const dataLength = size - dataStart;
    const tensors: SafetensorsTensor[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
      if (name === "__metadata__") {
        metadata = checkMetadata(file, entry);
        continue;
      }
      tensors.push(checkTensor(file, name, entry, dataStart, dataLength));
    }
    tensors.sort((a, b) => a.offset - b.offset);
    for (let index = 1; index < tensors.length; index++) {
      const [before, tensor] = [tensors[index - 1]!, tensors[index]!];
      if (tensor.offset < before.offset + before.byteLength) throw new InputError(file, undefined, tensor.name, `its bytes overlap those of ${before.name}`);
    }
    return { file, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

function checkMetadata(file: string, entry: unknown): Record<string, string> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new InputError(file, undefined, "__metadata__", "must be an object of text values");
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== "string") throw new InputError(file, undefined, `__metadata__.${key}`, "must be text");
  }
  return entry as Record<string, string>;
}

function checkTensor(file: string, name: string, entry: unknown, dataStart: number, dataLength: number): SafetensorsTensor {
  const problem = (text: string) => new InputError(file, undefined, name, text);
  if (typeof entry !== "object" || entry === null) throw problem("must be an object with dtype, shape and data_offsets");
  const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== "string") throw problem("dtype: missing");
  if (!isDType(dtype)) throw problem(`dtype ${dtype} is not supported: the weight tools read F32, F16 and BF16 tensors`);
  if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && size >= 0)) throw problem("shape: must be a list of non-negative whole numbers");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((at) => Number.isSafeInteger(at) && at >= 0)) throw problem("data_offsets: must be [begin, end]");
  const [begin, end] = offsets as [number, number];
  const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) throw problem(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} of shape [${shape.join(", ")}] takes ${expected}`);
  if (end > dataLength) throw problem(`data_offsets end at byte ${end} of the data, past the file's end (${dataLength} bytes of data): the file is cut short`);
  return { name, dtype, shape: shape as number[], offset: dataStart + begin, byteLength: expected };
}

export interface TensorLayout {
  name: string;
  dtype: DType;
  shape: number[];
}

/**
 * Writes a safetensors file tensor by tensor, in the order given: the header goes first (every tensor's place is
 * known from the layouts), then the caller appends each tensor's bytes. The file is written beside its final
 * name and renamed when complete, so an interrupted write never leaves a file that looks whole.
 */
export class SafetensorsWriter {
  private readonly fd: number;
  private readonly temporary: string;
  private readonly expected: number;
  private written = 0;

  constructor(
    readonly file: string,
    layouts: TensorLayout[],
    metadata: Record<string, string> = {},
  ) {
    const header: Record<string, unknown> = {};
    if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
    let offset = 0;
    for (const layout of layouts) {
      const bytes = elementCount(layout.shape) * DTYPE_BYTES[layout.dtype];
      header[layout.name] = { dtype: layout.dtype, shape: layout.shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    this.expected = offset;
    // The header is padded with spaces to a multiple of 8 bytes, as the reference writer does, so the buffer
    // (and every F32 tensor in it) starts aligned.
    const json = Buffer.from(JSON.stringify(header), "utf8");
    const padded = Math.ceil(json.length / 8) * 8;
    const head = Buffer.alloc(8 + padded, 0x20);
    head.writeBigUInt64LE(BigInt(padded), 0);
    json.copy(head, 8);
    this.temporary = `${file}.partial`;
    this.fd = openSync(this.temporary, "w");
    writeSync(this.fd, head);
  }

  /** Appends the next bytes of the buffer (tensors in the order of the layouts). */
  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done);
    this.written += bytes.byteLength;
  }

  close(): void {
    closeSync(this.fd);
    if (this.written !== this.expected) {
      rmSync(this.temporary, { force: true });
      throw new Error(`${this.file}: ${this.written} bytes of tensor data written, ${this.expected} expected`);
    }
    renameSync(this.temporary, this.file);
  }

  /** Gives up: the partial file is removed. */
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.temporary, { force: true });
  }
}
