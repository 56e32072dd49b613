import { createRequire } from "node:module";
import { ProviderError } from "../errors.js";
import type { FidelityStatistics } from "../types.js";
import { llamaRuntime, type GpuChoice, type Token } from "./library.js";
import { buildNativeAddon } from "./native-build.js";

// The dense-logits addon (native/dense-logits.c, built by native-build.ts) as the llamacpp provider uses it:
// its own load of each GGUF with one context that keeps every position's logits, and one call that decodes a
// text on two models and returns the Fidelity Loss numbers of each position as typed arrays. Calls run one at
// a time in this process (a context holds one text's logits until its statistics are read, and the decode
// already uses every thread it is given).

type Handle = { readonly __native: unique symbol };

/** What one `evaluate` with statistics returns: one value per scored position. */
export type RawStatistics = Omit<FidelityStatistics, "tokens" | "vocabSize">;

/** The addon's functions (see dense-logits.c). */
export interface DenseLogitsAddon {
  loadModel(path: string, gpuLayers: number): Promise<Handle>;
  createContext(model: Handle, contextSize: number, batchSize: number, threads: number): Handle;
  vocabSize(context: Handle): number;
  evaluate(target: Handle, base: Handle, tokens: Int32Array, statistics: boolean, threads: number): Promise<RawStatistics | null>;
  copyLogits(context: Handle, rows: number, out: Float32Array): void;
  freeContext(context: Handle): void;
  freeModel(model: Handle): void;
}

/** A GGUF loaded by the addon, with its context. */
export interface NativeModel {
  model: Handle;
  context: Handle;
  vocabSize: number;
  contextSize: number;
  threads: number;
}

/**
 * Tokens of one decode: the default max_tokens_per_text (512) and a beginning-of-sequence token fit one batch.
 * Longer texts are decoded in chunks of this size. llama.cpp sizes its compute buffer for a batch's logits
 * (batch × vocabulary floats), so a larger batch costs memory on large vocabularies for no speed.
 */
export const NATIVE_BATCH = 544;

let addon: Promise<DenseLogitsAddon | undefined> | undefined;
let noticeShown = false;

/**
 * The addon, built at first use; undefined (after one notice on stderr) where it cannot be built or loaded
 * here, in which case Fidelity Loss takes the exact path through node-llama-cpp's probabilities, more slowly.
 */
export function denseLogitsAddon(gpu: GpuChoice): Promise<DenseLogitsAddon | undefined> {
  addon ??= (async () => {
    // The addon links to the llama.cpp library node-llama-cpp loads: start that first (it also picks the backends).
    await llamaRuntime(gpu);
    const build = await buildNativeAddon();
    if ("unavailable" in build) return unavailable(build.unavailable);
    try {
      return createRequire(import.meta.url)(build.path) as DenseLogitsAddon;
    } catch (error) {
      return unavailable(`the compiled addon ${build.path} does not load: ${(error as Error).message}`);
    }
  })();
  return addon;
}

function unavailable(reason: string): undefined {
  if (!noticeShown && process.env.ALIGNBENCH_NATIVE !== "0") {
    noticeShown = true;
    process.stderr.write(
      `alignbench: Fidelity Loss takes the slower exact path through node-llama-cpp (same results): the dense-logits addon is not available (${reason}). Run \`npm run build:native\` in alignbench's folder to see the whole message.\n`,
    );
  }
  return undefined;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `job` after every addon call queued before it. */
export function exclusive<T>(job: () => Promise<T> | T): Promise<T> {
  const result = queue.then(job);
  queue = result.catch(() => undefined);
  return result;
}

export async function loadNativeModel(native: DenseLogitsAddon, path: string, options: { contextSize: number; threads: number; gpuLayers: number }): Promise<NativeModel> {
  let model: Handle;
  try {
    model = await native.loadModel(path, options.gpuLayers);
  } catch (error) {
    throw new ProviderError("client_error", `${path}: ${(error as Error).message}`);
  }
  try {
    const context = native.createContext(model, options.contextSize, Math.min(options.contextSize, NATIVE_BATCH), options.threads);
    return { model, context, vocabSize: native.vocabSize(context), contextSize: options.contextSize, threads: options.threads };
  } catch (error) {
    native.freeModel(model);
    throw new ProviderError("client_error", `${path}: ${(error as Error).message}`);
  }
}

export function freeNativeModel(native: DenseLogitsAddon, loaded: NativeModel): Promise<void> {
  return exclusive(() => {
    native.freeContext(loaded.context);
    native.freeModel(loaded.model);
  });
}

/**
 * One text's statistics: `tokens` decoded on both models (one llama_decode each per NATIVE_BATCH tokens), every
 * position's two rows of logits reduced in C on `target.threads` threads.
 */
export async function nativeStatistics(native: DenseLogitsAddon, target: NativeModel, base: NativeModel, tokens: readonly Token[], address: string): Promise<FidelityStatistics> {
  if (target.vocabSize !== base.vocabSize) throw new ProviderError("client_error", `${address}: the two models' vocabularies have ${target.vocabSize} and ${base.vocabSize} tokens`);
  const limit = Math.min(target.contextSize, base.contextSize);
  if (tokens.length > limit) throw new ProviderError("client_error", `${address}: a text of ${tokens.length} tokens does not fit the context of ${limit} (raise context_size)`);
  const ids = Int32Array.from(tokens);
  let raw: RawStatistics | null;
  try {
    raw = await exclusive(() => native.evaluate(target.context, base.context, ids, true, target.threads));
  } catch (error) {
    throw new ProviderError("internal", `${address}: ${(error as Error).message}`);
  }
  if (!raw) throw new ProviderError("internal", `${address}: the dense-logits addon returned no statistics`);
  return { tokens: Uint32Array.from(tokens), vocabSize: target.vocabSize, ...raw };
}
