import { closeSync, openSync, writeSync } from "node:fs";
import { seededRandom } from "../../src/common/seeded-random.js";
import { toBf16, toF16 } from "../../src/weights/dtypes.js";

// A minimal GGUF v3 writer (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): metadata plus F32
// tensors. Test support: it builds random-weight llama models, so tests and benchmarks run a real
// llama.cpp model without downloading one.

type MetadataValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "strings"; value: string[] }
  | { type: "f32s"; value: Float32Array | number[] }
  | { type: "i32s"; value: Int32Array | number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: the fastest-varying dimension first. */
  dims: number[];
  /** Fills `out` (length = product of dims) with the tensor's values. */
  fill(out: Float32Array): void;
  /** F32 by default; F16 and BF16 are rounded to nearest even; a quantized ggml type code writes zero bytes of that size. */
  type?: "F32" | "F16" | "BF16" | { ggml: number; bytes: number };
}

const GGML_TYPE = { F32: 0, F16: 1, BF16: 30 } as const;

/** A tensor's ggml type code and its data as bytes. */
function tensorBytes(tensor: GgufTensor): { code: number; bytes: () => Buffer; size: number } {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  const type = tensor.type ?? "F32";
  if (typeof type === "object") return { code: type.ggml, size: type.bytes, bytes: () => Buffer.alloc(type.bytes) };
  const values = () => {
    const out = new Float32Array(count);
    tensor.fill(out);
    return out;
  };
  if (type === "F32") return { code: 0, size: count * 4, bytes: () => Buffer.from(values().buffer) };
  const encode = type === "F16" ? toF16 : toBf16;
  return { code: GGML_TYPE[type], size: count * 2, bytes: () => Buffer.from(Uint16Array.from(values(), encode).buffer) };
}

const ALIGNMENT = 32;
const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

class Bytes {
  private chunks: Buffer[] = [];
  length = 0;
  push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }
  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }
  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.push(b);
  }
  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.push(b);
  }
  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }
  string(text: string): void {
    const bytes = Buffer.from(text, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeValue(out: Bytes, entry: MetadataValue): void {
  switch (entry.type) {
    case "u32":
      out.u32(TYPE.u32);
      out.u32(entry.value);
      return;
    case "i32":
      out.u32(TYPE.i32);
      out.i32(entry.value);
      return;
    case "f32":
      out.u32(TYPE.f32);
      out.f32(entry.value);
      return;
    case "bool":
      out.u32(TYPE.bool);
      out.push(Buffer.from([entry.value ? 1 : 0]));
      return;
    case "string":
      out.u32(TYPE.string);
      out.string(entry.value);
      return;
    case "strings":
      out.u32(TYPE.array);
      out.u32(TYPE.string);
      out.u64(entry.value.length);
      for (const text of entry.value) out.string(text);
      return;
    case "f32s":
      out.u32(TYPE.array);
      out.u32(TYPE.f32);
      out.u64(entry.value.length);
      out.push(Buffer.from(Float32Array.from(entry.value).buffer));
      return;
    case "i32s":
      out.u32(TYPE.array);
      out.u32(TYPE.i32);
      out.u64(entry.value.length);
      out.push(Buffer.from(Int32Array.from(entry.value).buffer));
      return;
  }
}

/** Writes a GGUF file; tensors are generated one at a time, so large models need little memory. */
export function writeGguf(file: string, metadata: Record<string, MetadataValue>, tensors: GgufTensor[]): void {
  const header = new Bytes();
  header.push(Buffer.from("GGUF", "latin1"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    header.string(key);
    writeValue(header, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    const { code, size } = tensorBytes(tensor);
    header.u32(code);
    header.u64(offset);
    offsets.push(offset);
    offset += Math.ceil(size / ALIGNMENT) * ALIGNMENT;
  }
  const headerBytes = header.concat();
  const fd = openSync(file, "w");
  try {
    writeSync(fd, headerBytes);
    const pad = Math.ceil(headerBytes.length / ALIGNMENT) * ALIGNMENT - headerBytes.length;
    writeSync(fd, Buffer.alloc(pad));
    for (const tensor of tensors) {
      const bytes = tensorBytes(tensor).bytes();
      writeSync(fd, bytes);
      writeSync(fd, Buffer.alloc(Math.ceil(bytes.length / ALIGNMENT) * ALIGNMENT - bytes.length));
    }
  } finally {
    closeSync(fd);
  }
}

export interface RandomLlamaShape {
  dim: number;
  layers: number;
  heads: number;
  kvHeads?: number;
  ffn: number;
  /** Extra word-piece tokens on top of the 259 control and byte tokens. */
  vocabPieces: number;
  contextLength?: number;
  seed?: number;
  /** Share the embedding matrix with the output layer (no output.weight), as many small models do. */
  tiedEmbeddings?: boolean;
  /** Adds ε × noise (from its own seeded stream) to every random weight: a perturbed copy of the same-seed model. */
  perturb?: { epsilon: number; seed: number };
  /** The element type of the weight matrices (norm weights stay F32, as llama.cpp's converter writes them). */
  weightType?: "F32" | "F16" | "BF16";
}

/** A SentencePiece-style vocabulary: <unk>, <s>, </s>, the 256 byte tokens, then letter pieces. */
function vocabulary(pieces: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const letters = "etaoinshrdlcumwfgypbvkjxqz".split("");
  const candidates: string[] = [];
  for (const a of letters) candidates.push(`▁${a}`, a);
  for (const a of letters) for (const b of letters) candidates.push(`▁${a}${b}`, `${a}${b}`);
  for (const a of letters) for (const b of letters) for (const c of letters) candidates.push(`▁${a}${b}${c}`, `${a}${b}${c}`);
  const chosen = candidates.slice(0, pieces);
  for (const piece of chosen) {
    tokens.push(piece);
    types.push(1);
  }
  // Longer pieces score higher, so the tokenizer prefers them, as in a trained vocabulary.
  const scores = tokens.map((token, index) => (types[index] === 1 ? -index / 1000 + token.length : 0));
  return { tokens, scores, types };
}

/** The vocabulary a model with `pieces` word pieces has (ids are indices): to pick tokens by text in a test. */
export function vocabularyTokens(pieces: number): string[] {
  return vocabulary(pieces).tokens;
}

export interface KnownLlamaWeights {
  dim: number;
  vocabPieces: number;
  /** vocabulary × dim, row-major: token i's embedding. */
  embedding: Float32Array;
  /** vocabulary × dim, row-major: token i's output row. */
  output: Float32Array;
}

/**
 * A llama model whose attention and feed-forward weights are all zero: each block adds nothing to the residual
 * stream, so the logits after a token are output · rmsnorm(embedding[token]) (epsilon 1e-5, norm weights 1),
 * whatever came before. A test computes them independently of llama.cpp.
 */
export function writeKnownLlama(file: string, weights: KnownLlamaWeights): void {
  const n = vocabulary(weights.vocabPieces).tokens.length;
  if (weights.embedding.length !== n * weights.dim || weights.output.length !== n * weights.dim) throw new Error(`the weights must be ${n} × ${weights.dim}`);
  const copy = (values: Float32Array) => (out: Float32Array) => out.set(values);
  writeRandomLlama(file, { dim: weights.dim, layers: 1, heads: 2, ffn: weights.dim, vocabPieces: weights.vocabPieces, zero: { embedding: copy(weights.embedding), output: copy(weights.output) } });
}

/** Writes a random-weight llama model; returns its parameter count. */
export function writeRandomLlama(file: string, shape: RandomLlamaShape & { zero?: { embedding: (out: Float32Array) => void; output: (out: Float32Array) => void } }): number {
  const next = seededRandom(shape.seed ?? 1);
  const noise = shape.perturb ? seededRandom(shape.perturb.seed) : undefined;
  const kvHeads = shape.kvHeads ?? shape.heads;
  const headDim = shape.dim / shape.heads;
  const kvDim = headDim * kvHeads;
  const vocab = vocabulary(shape.vocabPieces);
  const n = vocab.tokens.length;
  // `zero`: given embedding and output matrices, and zero weights in the blocks (writeKnownLlama).
  const gaussian = (scale: number) => (out: Float32Array) => {
    if (shape.zero) out.fill(0);
    else for (let i = 0; i < out.length; i++) out[i] = (next() + next() + next() - 1.5) * scale + (noise ? (noise() + noise() + noise() - 1.5) * shape.perturb!.epsilon : 0);
  };
  const ones = (out: Float32Array) => out.fill(1);
  const tensors: GgufTensor[] = [{ name: "token_embd.weight", dims: [shape.dim, n], fill: shape.zero?.embedding ?? gaussian(0.5) }];
  for (let layer = 0; layer < shape.layers; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      { name: `${blk}.attn_norm.weight`, dims: [shape.dim], fill: ones },
      { name: `${blk}.attn_q.weight`, dims: [shape.dim, shape.dim], fill: gaussian(0.1) },
      { name: `${blk}.attn_k.weight`, dims: [shape.dim, kvDim], fill: gaussian(0.1) },
      { name: `${blk}.attn_v.weight`, dims: [shape.dim, kvDim], fill: gaussian(0.1) },
      { name: `${blk}.attn_output.weight`, dims: [shape.dim, shape.dim], fill: gaussian(0.1) },
      { name: `${blk}.ffn_norm.weight`, dims: [shape.dim], fill: ones },
      { name: `${blk}.ffn_gate.weight`, dims: [shape.dim, shape.ffn], fill: gaussian(0.1) },
      { name: `${blk}.ffn_up.weight`, dims: [shape.dim, shape.ffn], fill: gaussian(0.1) },
      { name: `${blk}.ffn_down.weight`, dims: [shape.ffn, shape.dim], fill: gaussian(0.1) },
    );
  }
  tensors.push({ name: "output_norm.weight", dims: [shape.dim], fill: ones });
  if (!shape.tiedEmbeddings) tensors.push({ name: "output.weight", dims: [shape.dim, n], fill: shape.zero?.output ?? gaussian(0.5) });
  if (shape.weightType) for (const tensor of tensors) if (tensor.dims.length > 1) tensor.type = shape.weightType;
  writeGguf(
    file,
    {
      "general.architecture": { type: "string", value: "llama" },
      "general.name": { type: "string", value: "alignbench-random-llama" },
      "general.alignment": { type: "u32", value: ALIGNMENT },
      "llama.context_length": { type: "u32", value: shape.contextLength ?? 2048 },
      "llama.embedding_length": { type: "u32", value: shape.dim },
      "llama.block_count": { type: "u32", value: shape.layers },
      "llama.feed_forward_length": { type: "u32", value: shape.ffn },
      "llama.rope.dimension_count": { type: "u32", value: headDim },
      "llama.attention.head_count": { type: "u32", value: shape.heads },
      "llama.attention.head_count_kv": { type: "u32", value: kvHeads },
      "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: 1e-5 },
      "tokenizer.ggml.model": { type: "string", value: "llama" },
      "tokenizer.ggml.tokens": { type: "strings", value: vocab.tokens },
      "tokenizer.ggml.scores": { type: "f32s", value: vocab.scores },
      "tokenizer.ggml.token_type": { type: "i32s", value: vocab.types },
      "tokenizer.ggml.unknown_token_id": { type: "u32", value: 0 },
      "tokenizer.ggml.bos_token_id": { type: "u32", value: 1 },
      "tokenizer.ggml.eos_token_id": { type: "u32", value: 2 },
      "tokenizer.ggml.add_bos_token": { type: "bool", value: true },
    },
    tensors,
  );
  return tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
}
