import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InputError } from "../errors.js";
import type { DType } from "./dtypes.js";

/**
 * The tensor directory of a GGUF file (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): after the
 * magic, version, tensor count and key–value count come the key–value pairs (skipped here, except
 * `general.alignment`), then per tensor its name, dimension count, dimensions (fastest-varying first), ggml
 * type and offset; the data section starts at the next multiple of the alignment (32 by default). The header
 * is read from the file in growing pieces, so a tokenizer of megabytes costs no more than that.
 */
export interface GgufTensor {
  name: string;
  dtype: DType;
  /** Row-major (slowest-varying first), as safetensors writes shapes: ggml's dimensions reversed. */
  shape: number[];
  /** Absolute byte offset of the first element. */
  offset: number;
  byteLength: number;
}

export interface GgufLayout {
  file: string;
  /** Where the data section starts: the header (every key–value pair and tensor record) is the bytes before. */
  dataStart: number;
  size: number;
  tensors: GgufTensor[];
}

const UNQUANTIZED: Record<number, DType> = { 0: "F32", 1: "F16", 30: "BF16" };
// ggml_type names (ggml.h), so a refused tensor is named by its type.
const TYPE_NAMES: Record<number, string> = {
  2: "Q4_0",
  3: "Q4_1",
  6: "Q5_0",
  7: "Q5_1",
  8: "Q8_0",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  12: "Q4_K",
  13: "Q5_K",
  14: "Q6_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  24: "I8",
  25: "I16",
  26: "I32",
  27: "I64",
  28: "F64",
  29: "IQ1_M",
  34: "TQ1_0",
  35: "TQ2_0",
  39: "MXFP4",
};
// Fixed sizes of the key–value types by code (uint8 … float64); 8 = string, 9 = array.
const VALUE_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** A cursor over the start of a file that reads more of it on demand. */
class HeaderCursor {
  private buffer = Buffer.alloc(0);
  private loaded = 0;
  position = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly file: string,
  ) {}

  private need(length: number): number {
    const at = this.position;
    if (at + length > this.size) throw new InputError(this.file, undefined, undefined, `not a complete GGUF file (it ends inside its header, at byte ${at})`);
    if (at + length > this.loaded) {
      const want = Math.min(this.size, Math.max(at + length, this.loaded * 2, 1 << 20));
      const next = Buffer.alloc(want);
      this.buffer.copy(next, 0, 0, this.loaded);
      while (this.loaded < want) this.loaded += readSync(this.fd, next, this.loaded, want - this.loaded, this.loaded);
      this.buffer = next;
    }
    this.position += length;
    return at;
  }

  uint32(): number {
    const at = this.need(4); // before reading this.buffer: need() may replace it
    return this.buffer.readUInt32LE(at);
  }

  uint64(): number {
    const at = this.need(8);
    const value = this.buffer.readBigUInt64LE(at);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(this.file, undefined, undefined, `GGUF value ${value} at byte ${this.position - 8} is too large`);
    return Number(value);
  }

  string(): string {
    const length = this.uint64();
    const at = this.need(length);
    return this.buffer.toString("utf8", at, at + length);
  }

  skip(length: number): void {
    this.need(length);
  }

  skipValue(type: number): void {
    const fixed = VALUE_BYTES[type];
    if (fixed !== undefined) this.skip(fixed);
    else if (type === 8) this.skip(this.uint64());
    else if (type === 9) {
      const itemType = this.uint32();
      const count = this.uint64();
      const itemBytes = VALUE_BYTES[itemType];
      if (itemBytes !== undefined) this.skip(count * itemBytes);
      else for (let index = 0; index < count; index++) this.skipValue(itemType);
    } else throw new InputError(this.file, undefined, undefined, `unknown GGUF value type ${type} at byte ${this.position - 4}`);
  }
}

/** Reads a GGUF file's tensor directory; quantized tensors are refused, each type named with its count. */
export function readGgufLayout(file: string): GgufLayout {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const cursor = new HeaderCursor(fd, size, file);
    if (cursor.uint32() !== 0x46554747) throw new InputError(file, undefined, undefined, "not a GGUF file (no GGUF magic)");
    const version = cursor.uint32();
    if (version < 2) throw new InputError(file, undefined, undefined, `GGUF version ${version} is not supported (2 or later)`);
    const tensorCount = cursor.uint64();
    const keyCount = cursor.uint64();
    let alignment = 32;
    for (let index = 0; index < keyCount; index++) {
      const key = cursor.string();
      const type = cursor.uint32();
      if (key === "general.alignment" && type === 4) {
        alignment = cursor.uint32();
        if (alignment === 0 || alignment % 8 !== 0) throw new InputError(file, undefined, "general.alignment", `${alignment} is not a multiple of 8`);
      } else cursor.skipValue(type);
    }
    const records: Array<{ name: string; dims: number[]; type: number; offset: number }> = [];
    for (let index = 0; index < tensorCount; index++) {
      const name = cursor.string();
      const dimCount = cursor.uint32();
      if (dimCount > 8) throw new InputError(file, undefined, name, `${dimCount} dimensions: not a tensor record (the file is damaged)`);
      const dims: number[] = [];
      for (let d = 0; d < dimCount; d++) dims.push(cursor.uint64());
      records.push({ name, dims, type: cursor.uint32(), offset: cursor.uint64() });
    }
    refuseQuantized(file, records);
    const dataStart = Math.ceil(cursor.position / alignment) * alignment;
    const tensors = records.map((record): GgufTensor => {
      const dtype = UNQUANTIZED[record.type]!;
      const byteLength = record.dims.reduce((product, size) => product * size, 1) * (dtype === "F32" ? 4 : 2);
      const offset = dataStart + record.offset;
      if (offset + byteLength > size) throw new InputError(file, undefined, record.name, `its data ends at byte ${offset + byteLength}, past the file's end (${size} bytes): the file is cut short`);
      return { name: record.name, dtype, shape: [...record.dims].reverse(), offset, byteLength };
    });
    tensors.sort((a, b) => a.offset - b.offset);
    return { file, dataStart, size, tensors };
  } finally {
    closeSync(fd);
  }
}

function refuseQuantized(file: string, records: Array<{ name: string; type: number }>): void {
  const refused = records.filter((record) => UNQUANTIZED[record.type] === undefined);
  if (refused.length === 0) return;
  const byType = new Map<string, number>();
  for (const record of refused) {
    const type = TYPE_NAMES[record.type] ?? `type ${record.type}`;
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }
  const first = refused[0]!;
  const types = [...byType].map(([type, count]) => `${type} × ${count}`).join(", ");
  throw new InputError(
    file,
    undefined,
    undefined,
    `${refused.length} of ${records.length} tensors are not F32, F16 or BF16 (${types}; the first is ${first.name}, ${TYPE_NAMES[first.type] ?? `type ${first.type}`}): ` +
      "task vectors and merges need unquantized weights. Convert the checkpoint with llama.cpp's convert_hf_to_gguf.py --outtype f16 (or bf16, f32), or use its safetensors",
  );
}
