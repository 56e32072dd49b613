import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { checkSameTensors, type Checkpoint, type TensorEntry } from "./checkpoint.js";
import { DTYPE_BYTES, encodeChunk } from "./dtypes.js";
import { weightKernels } from "./kernels.js";
import { dare, dareStream, taskArithmetic, ties, topMagnitudeThreshold, type MergeMethod } from "./merge-methods.js";
import { SafetensorsWriter } from "./safetensors.js";
import { chunks, TensorReader } from "./tensor-reader.js";

export interface MergeVector {
  checkpoint: Checkpoint;
  lambda: number;
}

export interface MergeOptions {
  method: MergeMethod;
  /** TIES: the percentage of each tensor's entries kept, by magnitude. */
  tiesK: number;
  /** DARE: the drop probability. */
  dareP: number;
  seed: number;
  /** A folder, or a file whose name ends like the base's format (.safetensors, .gguf) for a single-file base. */
  out: string;
  chunkElements?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface MergeResult {
  files: string[];
  tensors: number;
  parameters: number;
  settings: Record<string, unknown>;
}

/** Merges task vectors into a base, tensor by tensor, writing the result in the base's own format and types. */
export function mergeCheckpoints(base: Checkpoint, vectors: MergeVector[], options: MergeOptions): MergeResult {
  if (vectors.length === 0) throw new UserError("no task vector given: add --vector FILE[:LAMBDA]");
  vectors.forEach((vector, index) => checkSameTensors(base, vector.checkpoint, { base: "the base", other: `vector ${index + 1}` }));
  if (!(options.tiesK > 0 && options.tiesK <= 100)) throw new UserError(`--ties-k ${options.tiesK}: must be a percentage above 0 and at most 100`);
  if (!(options.dareP >= 0 && options.dareP < 1)) throw new UserError(`--dare-p ${options.dareP}: must be at least 0 and below 1`);
  const settings = {
    method: options.method,
    base: base.path,
    vectors: vectors.map((vector) => ({ path: vector.checkpoint.path, lambda: vector.lambda })),
    ...(options.method === "ties" ? { ties_k: options.tiesK } : {}),
    ...(options.method === "dare" ? { dare_p: options.dareP, seed: options.seed } : {}),
  };
  const targets = outputFiles(base, options.out);
  const inputs = new Set([...base.files, ...vectors.flatMap((vector) => vector.checkpoint.files)].map((file) => resolve(file)));
  for (const target of targets.values()) if (inputs.has(resolve(target))) throw new UserError(`${target}: the merge would overwrite one of its inputs; choose another --out`);
  const merger = new TensorMerger(base, vectors, options);
  try {
    for (const file of base.files) {
      const tensors = base.tensors.filter((entry) => entry.file === file);
      const target = targets.get(file)!;
      if (base.format === "gguf") writeGguf(file, target, tensors, merger);
      else {
        const metadata = { ...base.metadata.get(file), alignbench_merge: JSON.stringify(settings) };
        const writer = new SafetensorsWriter(target, tensors, metadata);
        try {
          for (const entry of tensors) merger.merge(entry, (bytes) => writer.write(bytes));
          writer.close();
        } catch (error) {
          writer.abort();
          throw error;
        }
      }
    }
  } finally {
    merger.close();
  }
  const files = [...targets.values()];
  if (base.folder && !isFileTarget(base, options.out)) files.push(...copySideFiles(base, options.out, settings));
  return { files, tensors: base.tensors.length, parameters: base.tensors.reduce((sum, entry) => sum + entry.count, 0), settings };
}

function isFileTarget(base: Checkpoint, out: string): boolean {
  return base.files.length === 1 && out.endsWith(base.format === "gguf" ? ".gguf" : ".safetensors");
}

/** Where each base file's merged copy goes: the named file, or the same file name inside the --out folder. */
function outputFiles(base: Checkpoint, out: string): Map<string, string> {
  if (isFileTarget(base, out)) return new Map([[base.files[0]!, out]]);
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new UserError(
      `--out ${out}: a file; a merge of ${base.files.length > 1 ? "a sharded checkpoint" : "this checkpoint"} goes into a folder (or name a .${base.format} file for a single-file base)`,
    );
  mkdirSync(out, { recursive: true });
  return new Map(base.files.map((file) => [file, join(out, basename(file))]));
}

/** The base folder's other files (config, tokenizer, the shard index), so the merged folder loads as the base does. */
function copySideFiles(base: Checkpoint, out: string, settings: Record<string, unknown>): string[] {
  const written: string[] = [];
  for (const name of readdirSync(base.folder!)) {
    const from = join(base.folder!, name);
    if (name.endsWith(".safetensors") || name.endsWith(".gguf") || name.endsWith(".partial") || !statSync(from).isFile()) continue;
    if (resolve(from) === resolve(join(out, name))) continue;
    copyFileSync(from, join(out, name));
    written.push(join(out, name));
  }
  const provenance = join(out, "alignbench-merge.json");
  writeFileSync(provenance, JSON.stringify(settings, null, 2) + "\n");
  return [...written, provenance];
}

/** Holds the readers and buffers of one merge: one chunk per input, whatever the checkpoints' sizes. */
class TensorMerger {
  private readonly baseReader: TensorReader;
  private readonly vectorReaders: TensorReader[];
  private readonly merged: Float64Array;
  private readonly encoded: ArrayBuffer;
  private readonly total: number;

  constructor(
    base: Checkpoint,
    private readonly vectors: MergeVector[],
    private readonly options: MergeOptions,
  ) {
    this.baseReader = new TensorReader(options.chunkElements);
    this.vectorReaders = vectors.map(() => new TensorReader(options.chunkElements));
    this.merged = new Float64Array(this.baseReader.chunkElements);
    this.encoded = new ArrayBuffer(this.baseReader.chunkElements * 4);
    this.total = base.totalBytes + vectors.reduce((sum, vector) => sum + vector.checkpoint.totalBytes, 0);
  }

  /** Merges one tensor, handing its encoded bytes (the base's type) to `write` chunk by chunk. */
  merge(entry: TensorEntry, write: (bytes: Uint8Array) => void): void {
    const twins = this.vectors.map((vector) => vector.checkpoint.byName.get(entry.name)!);
    const lambdas = this.vectors.map((vector) => vector.lambda);
    const { method, tiesK, dareP, seed } = this.options;
    const thresholds = method === "ties" ? twins.map((twin, j) => this.threshold(twin, this.vectorReaders[j]!, tiesK)) : [];
    const streams = method === "dare" ? twins.map((_, j) => dareStream(seed, j, entry.name)) : [];
    // The C kernels where they are loaded (the same bits); DARE's per-element draws stay in JavaScript.
    const native = weightKernels();
    const [nativeLambdas, nativeThresholds] = [Float64Array.from(lambdas), Float64Array.from(thresholds)];
    for (const [start, count] of chunks(entry.count, this.baseReader.chunkElements)) {
      const base = this.baseReader.read(entry, start, count);
      const vectors = twins.map((twin, j) => this.vectorReaders[j]!.read(twin, start, count));
      const out = this.merged.subarray(0, count);
      if (method === "ties") native ? native.ties(base, vectors, nativeLambdas, nativeThresholds, out) : ties(base, vectors, lambdas, thresholds, out);
      else if (method === "dare") dare(base, vectors, lambdas, dareP, streams, out);
      else native ? native.taskArithmetic(base, vectors, nativeLambdas, out) : taskArithmetic(base, vectors, lambdas, out);
      encodeChunk(entry.dtype, out, count, this.encoded);
      write(new Uint8Array(this.encoded, 0, count * DTYPE_BYTES[entry.dtype]));
      this.options.onProgress?.(this.baseReader.bytesRead + this.vectorReaders.reduce((sum, reader) => sum + reader.bytesRead, 0), this.total);
    }
  }

  /** TIES: the magnitude of the ⌈k% · n⌉-th largest entry of this vector's tensor (two extra reads of it). */
  private threshold(entry: TensorEntry, reader: TensorReader, percent: number): number {
    const keep = Math.ceil((percent / 100) * entry.count);
    return topMagnitudeThreshold((visit) => {
      for (const [start, count] of chunks(entry.count, reader.chunkElements)) visit(reader.read(entry, start, count));
    }, keep);
  }

  close(): void {
    this.baseReader.close();
    for (const reader of this.vectorReaders) reader.close();
  }
}

/**
 * A merged GGUF is the base file with its tensors' bytes replaced: the header (every key–value pair, the
 * tokenizer, the tensor records) and the padding between tensors are copied byte for byte, so llama.cpp loads
 * it exactly as it loads the base. Written beside its final name and renamed when complete.
 */
function writeGguf(file: string, target: string, tensors: TensorEntry[], merger: TensorMerger): void {
  const temporary = `${target}.partial`;
  const input = openSync(file, "r");
  const output = openSync(temporary, "w");
  const size = statSync(file).size;
  let position = 0;
  const put = (bytes: Uint8Array) => {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(output, bytes, done, bytes.byteLength - done);
    position += bytes.byteLength;
  };
  const copyUntil = (end: number) => {
    const buffer = Buffer.alloc(Math.min(1 << 20, Math.max(0, end - position)));
    while (position < end) {
      const got = readSync(input, buffer, 0, Math.min(buffer.length, end - position), position);
      if (got === 0) throw new UserError(`${file}: changed while being merged`);
      put(buffer.subarray(0, got));
    }
  };
  let complete = false;
  try {
    for (const entry of tensors) {
      copyUntil(entry.offset);
      merger.merge(entry, put);
    }
    copyUntil(size);
    complete = true;
  } finally {
    closeSync(input);
    closeSync(output);
    if (complete) renameSync(temporary, target);
    else rmSync(temporary, { force: true });
  }
}
