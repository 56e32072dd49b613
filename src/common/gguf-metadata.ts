/**
 * The key–value metadata of a GGUF file (llama.cpp's format: "GGUF", version, tensor count, metadata count,
 * then typed key–value pairs), enough to read a tokenizer's vocabulary without llama.cpp. Tensors are not
 * read. Versions 2 and 3 (64-bit counts) are supported; version 1 predates them and is refused.
 */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32

// Value types by their GGUF code; sizes in bytes for the fixed-width ones.
const UINT8 = 0;
const INT8 = 1;
const UINT16 = 2;
const INT16 = 3;
const UINT32 = 4;
const INT32 = 5;
const FLOAT32 = 6;
const BOOL = 7;
const STRING = 8;
const ARRAY = 9;
const UINT64 = 10;
const INT64 = 11;
const FLOAT64 = 12;

class Reader {
  private offset = 0;
  private readonly view: DataView;
  private readonly text = new TextDecoder("utf-8");

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(size: number): number {
    const at = this.offset;
    if (at + size > this.bytes.byteLength) throw new Error(`${this.file}: not a complete GGUF file (ends inside its metadata, at byte ${at})`);
    this.offset += size;
    return at;
  }

  uint32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  /** A 64-bit count or length, refused when it could not index this file. */
  length(): number {
    const value = this.view.getBigUint64(this.need(8), true);
    if (value > BigInt(this.bytes.byteLength)) throw new Error(`${this.file}: GGUF length ${value} at byte ${this.offset - 8} is larger than the file`);
    return Number(value);
  }

  string(): string {
    const size = this.length();
    const at = this.need(size);
    return this.text.decode(this.bytes.subarray(at, at + size));
  }

  value(type: number): GgufValue {
    switch (type) {
      case UINT8:
        return this.view.getUint8(this.need(1));
      case INT8:
        return this.view.getInt8(this.need(1));
      case UINT16:
        return this.view.getUint16(this.need(2), true);
      case INT16:
        return this.view.getInt16(this.need(2), true);
      case UINT32:
        return this.view.getUint32(this.need(4), true);
      case INT32:
        return this.view.getInt32(this.need(4), true);
      case FLOAT32:
        return this.view.getFloat32(this.need(4), true);
      case BOOL:
        return this.view.getUint8(this.need(1)) !== 0;
      case STRING:
        return this.string();
      case ARRAY: {
        const itemType = this.uint32();
        const count = this.length();
        const items: GgufValue[] = new Array(count);
        for (let index = 0; index < count; index++) items[index] = this.value(itemType);
        return items;
      }
      case UINT64:
        return this.view.getBigUint64(this.need(8), true);
      case INT64:
        return this.view.getBigInt64(this.need(8), true);
      case FLOAT64:
        return this.view.getFloat64(this.need(8), true);
      default:
        throw new Error(`${this.file}: unknown GGUF value type ${type} at byte ${this.offset - 4}`);
    }
  }
}

/** Every metadata key of a GGUF file held in memory, with its value. */
export function readGgufMetadata(bytes: Uint8Array, file: string): Map<string, GgufValue> {
  const reader = new Reader(bytes, file);
  if (reader.uint32() !== MAGIC) throw new Error(`${file}: not a GGUF file (no GGUF magic)`);
  const version = reader.uint32();
  if (version < 2) throw new Error(`${file}: GGUF version ${version} is not supported (2 or later)`);
  reader.length(); // tensor count: tensors are not read
  const count = reader.length();
  const metadata = new Map<string, GgufValue>();
  for (let index = 0; index < count; index++) {
    const key = reader.string();
    metadata.set(key, reader.value(reader.uint32()));
  }
  return metadata;
}
