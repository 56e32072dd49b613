import { checkSameTensors, type Checkpoint, type TensorEntry } from "./checkpoint.js";
import { SafetensorsWriter } from "./safetensors.js";
import { weightKernels, type WeightKernels } from "./kernels.js";
import { chunks, TensorReader } from "./tensor-reader.js";

/**
 * What fine-tuning changed, tensor by tensor: the task vector Δ = W_ft − W_base (Ilharco et al., "Editing
 * Models with Task Arithmetic", ICLR 2023) and, over each tensor and each layer (all tensors of one block):
 *   ‖Δ‖₂ = √Σ(ft − base)²                     the task vector's norm
 *   relative = ‖Δ‖₂ / ‖W_base‖₂                 how large the change is against the weights it changes
 *   cosine = Σ base·ft / (‖W_base‖₂ ‖W_ft‖₂)    the angle between base and fine-tuned weights
 *   changed = #{i : ft_i ≠ base_i} / n          the share of parameters changed at all (−0 equals +0)
 * Sums run in double precision over float32-widened values, one chunk at a time.
 */
export interface Sums {
  count: number;
  changed: number;
  baseSquares: number;
  finetunedSquares: number;
  dot: number;
  deltaSquares: number;
  maxAbsDelta: number;
}

export interface Statistics {
  name: string;
  parameters: number;
  deltaNorm: number;
  baseNorm: number;
  /** ‖Δ‖/‖W_base‖; null when the base weights are all zero. */
  relative: number | null;
  /** null when either side is all zeros. */
  cosine: number | null;
  changedShare: number;
  maxAbsDelta: number;
}

export interface TensorStatistics extends Statistics {
  layer: string;
  shape: number[];
  dtype: string;
}

export interface DiffResult {
  base: string;
  finetuned: string;
  format: Checkpoint["format"];
  total: Statistics;
  layers: Statistics[];
  tensors: TensorStatistics[];
  /** Layer names, largest relative change first. */
  mostChanged: string[];
  /** The task vector's file, when saved. */
  saved?: string;
}

export function emptySums(): Sums {
  return { count: 0, changed: 0, baseSquares: 0, finetunedSquares: 0, dot: 0, deltaSquares: 0, maxAbsDelta: 0 };
}

/**
 * Adds one chunk's elements to `sums`. The loop is kept to plain local accumulators and plain comparisons: an
 * optional call in the function, or Number.isNaN in the loop, made V8's code 5–8× slower (CPU time measured).
 * NaN on both sides counts as unchanged; a NaN anywhere makes ‖Δ‖² NaN, and only then is the count redone.
 */
export function addChunk(sums: Sums, base: Float32Array, finetuned: Float32Array): void {
  let changed = 0;
  let baseSquares = 0;
  let finetunedSquares = 0;
  let dot = 0;
  let deltaSquares = 0;
  let maxAbsDelta = sums.maxAbsDelta;
  const count = base.length;
  for (let i = 0; i < count; i++) {
    const b = base[i]!;
    const f = finetuned[i]!;
    const d = f - b;
    if (b !== f) changed++;
    baseSquares += b * b;
    finetunedSquares += f * f;
    dot += b * f;
    deltaSquares += d * d;
    const magnitude = d < 0 ? -d : d;
    if (magnitude > maxAbsDelta) maxAbsDelta = magnitude;
  }
  if (Number.isNaN(deltaSquares)) changed = changedCountingNaN(base, finetuned);
  sums.count += count;
  sums.changed += changed;
  sums.baseSquares += baseSquares;
  sums.finetunedSquares += finetunedSquares;
  sums.dot += dot;
  sums.deltaSquares += deltaSquares;
  sums.maxAbsDelta = maxAbsDelta;
}

function changedCountingNaN(base: Float32Array, finetuned: Float32Array): number {
  let changed = 0;
  for (let i = 0; i < base.length; i++) if (base[i] !== finetuned[i] && !(Number.isNaN(base[i]) && Number.isNaN(finetuned[i]))) changed++;
  return changed;
}

/** addChunk by the C kernel (same sums, same order of additions): `scratch` is a Float64Array(6). */
export function addChunkNative(native: WeightKernels, sums: Sums, base: Float32Array, finetuned: Float32Array, scratch: Float64Array): void {
  scratch[5] = sums.maxAbsDelta;
  native.chunkSums(base, finetuned, scratch);
  sums.count += base.length;
  sums.changed += scratch[0]!;
  sums.baseSquares += scratch[1]!;
  sums.finetunedSquares += scratch[2]!;
  sums.dot += scratch[3]!;
  sums.deltaSquares += scratch[4]!;
  sums.maxAbsDelta = scratch[5]!;
}

/** Δ = ft − base, rounded once to float32. */
export function writeDeltas(base: Float32Array, finetuned: Float32Array, delta: Float32Array): void {
  const count = base.length;
  for (let i = 0; i < count; i++) delta[i] = finetuned[i]! - base[i]!;
}

export function mergeSums(into: Sums, from: Sums): void {
  into.count += from.count;
  into.changed += from.changed;
  into.baseSquares += from.baseSquares;
  into.finetunedSquares += from.finetunedSquares;
  into.dot += from.dot;
  into.deltaSquares += from.deltaSquares;
  into.maxAbsDelta = Math.max(into.maxAbsDelta, from.maxAbsDelta);
}

export function statistics(name: string, sums: Sums): Statistics {
  const baseNorm = Math.sqrt(sums.baseSquares);
  const finetunedNorm = Math.sqrt(sums.finetunedSquares);
  const deltaNorm = Math.sqrt(sums.deltaSquares);
  return {
    name,
    parameters: sums.count,
    deltaNorm,
    baseNorm,
    relative: baseNorm > 0 ? deltaNorm / baseNorm : null,
    // One square root of the product (not a product of roots): identical tensors give exactly 1. Clamped to [−1, 1].
    cosine: baseNorm > 0 && finetunedNorm > 0 ? Math.max(-1, Math.min(1, sums.dot / Math.sqrt(sums.baseSquares * sums.finetunedSquares))) : null,
    changedShare: sums.count > 0 ? sums.changed / sums.count : 0,
    maxAbsDelta: sums.maxAbsDelta,
  };
}

// Block indices in the names of the common layouts: Hugging Face `model.layers.3.`, GPT-2 `transformer.h.3.`,
// GGUF `blk.3.`, and `blocks.3.` / `layers.3.` elsewhere.
const LAYER = /(?:^|\.)(layers|h|blk|block|blocks)\.(\d+)\./;

/** The layer a tensor belongs to: its block (`layers.3`), or, outside the blocks, the tensor itself. */
export function layerOf(name: string): string {
  const match = LAYER.exec(name);
  return match ? name.slice(0, match.index + match[0].length - 1).replace(/^\./, "") : name;
}

export interface DiffOptions {
  /** Writes the task vector (F32) here. */
  save?: string;
  chunkElements?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Streams both checkpoints tensor by tensor (never either one whole in memory) and measures the change. */
export function diffCheckpoints(base: Checkpoint, finetuned: Checkpoint, options: DiffOptions = {}): DiffResult {
  checkSameTensors(base, finetuned, { base: "the base", other: "the fine-tuned model" });
  const baseReader = new TensorReader(options.chunkElements);
  const finetunedReader = new TensorReader(options.chunkElements);
  const delta = options.save ? new Float32Array(baseReader.chunkElements) : undefined;
  const writer = options.save
    ? new SafetensorsWriter(
        options.save,
        base.tensors.map((entry) => ({ name: entry.name, dtype: "F32" as const, shape: entry.shape })),
        { format: "pt", alignbench: "task vector: finetuned - base", base: base.path, finetuned: finetuned.path },
      )
    : undefined;
  const total = base.totalBytes + finetuned.totalBytes;
  const tensors: TensorStatistics[] = [];
  const layers = new Map<string, Sums>();
  const all = emptySums();
  const native = weightKernels();
  const scratch = new Float64Array(6);
  try {
    for (const entry of base.tensors) {
      const twin: TensorEntry = finetuned.byName.get(entry.name)!;
      const sums = emptySums();
      for (const [start, count] of chunks(entry.count, baseReader.chunkElements)) {
        const [before, after] = [baseReader.read(entry, start, count), finetunedReader.read(twin, start, count)];
        if (native) addChunkNative(native, sums, before, after, scratch);
        else addChunk(sums, before, after);
        if (writer && delta) {
          if (native) native.deltas(before, after, delta);
          else writeDeltas(before, after, delta);
          writer.write(new Uint8Array(delta.buffer, 0, count * 4));
        }
        options.onProgress?.(baseReader.bytesRead + finetunedReader.bytesRead, total);
      }
      const layer = layerOf(entry.name);
      tensors.push({ ...statistics(entry.name, sums), layer, shape: entry.shape, dtype: entry.dtype === twin.dtype ? entry.dtype : `${entry.dtype}→${twin.dtype}` });
      if (!layers.has(layer)) layers.set(layer, emptySums());
      mergeSums(layers.get(layer)!, sums);
      mergeSums(all, sums);
    }
    writer?.close();
  } catch (error) {
    writer?.abort();
    throw error;
  } finally {
    baseReader.close();
    finetunedReader.close();
  }
  const layerStatistics = [...layers].map(([name, sums]) => statistics(name, sums));
  const mostChanged = [...layerStatistics].sort((a, b) => (b.relative ?? -1) - (a.relative ?? -1) || b.deltaNorm - a.deltaNorm).map((layer) => layer.name);
  return {
    base: base.path,
    finetuned: finetuned.path,
    format: base.format,
    total: statistics("all", all),
    layers: layerStatistics,
    tensors,
    mostChanged,
    ...(options.save ? { saved: options.save } : {}),
  };
}
