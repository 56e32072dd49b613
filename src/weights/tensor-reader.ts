import { closeSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { UserError } from "../errors.js";
import { decodeChunk, DTYPE_BYTES } from "./dtypes.js";
import type { TensorEntry } from "./checkpoint.js";

/**
 * Reads tensors piece by piece at their byte offsets into one fixed buffer, widened to float32: whatever the
 * checkpoint's size, a reader holds one chunk (CHUNK_ELEMENTS elements, 16 MB as float32). Node has no mmap;
 * positional reads of the page cache cost about what a mapping's page faults do, and keep memory bounded.
 */
export const CHUNK_ELEMENTS = 1 << 22;

if (endianness() !== "LE") throw new UserError("the weight tools read little-endian tensors and need a little-endian machine");

export class TensorReader {
  private readonly raw: ArrayBuffer;
  private readonly bytes: Buffer;
  private readonly scratch: Float32Array;
  private readonly handles = new Map<string, number>();
  /** Bytes read so far, for progress. */
  bytesRead = 0;

  constructor(readonly chunkElements = CHUNK_ELEMENTS) {
    this.raw = new ArrayBuffer(chunkElements * 4);
    this.bytes = Buffer.from(this.raw);
    this.scratch = new Float32Array(chunkElements);
  }

  private handle(file: string): number {
    let fd = this.handles.get(file);
    if (fd === undefined) this.handles.set(file, (fd = openSync(file, "r")));
    return fd;
  }

  /**
   * Elements [start, start + count) of a tensor as float32; count ≤ chunkElements. The array is this reader's
   * own buffer: valid until its next read.
   */
  read(entry: TensorEntry, start: number, count: number): Float32Array {
    const size = DTYPE_BYTES[entry.dtype];
    const length = count * size;
    const position = entry.offset + start * size;
    const fd = this.handle(entry.file);
    let done = 0;
    while (done < length) {
      const got = readSync(fd, this.bytes, done, length - done, position + done);
      if (got === 0) throw new UserError(`${entry.file}: ends inside tensor ${entry.name} (the file was cut short or changed while being read)`);
      done += got;
    }
    this.bytesRead += length;
    return decodeChunk(entry.dtype, this.raw, count, this.scratch);
  }

  close(): void {
    for (const fd of this.handles.values()) closeSync(fd);
    this.handles.clear();
  }
}

/** The chunks [start, count) that cover a tensor of `total` elements. */
export function* chunks(total: number, size: number): Generator<[number, number]> {
  for (let start = 0; start < total; start += size) yield [start, Math.min(size, total - start)];
}
