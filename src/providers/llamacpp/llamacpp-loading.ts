import { availableParallelism } from "node:os";
import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../../errors.js";
import { ProviderError } from "../errors.js";
import { ensureHubFile, type DownloadProgress } from "../../io/download.js";
import { unmixedBatches } from "./llamacpp-batching.js";
import { llamaRuntime, type GpuChoice, type LlamaContext, type LlamaModel, type LlamaSequence } from "./library.js";

export interface LlamaCppSettings {
  name: string;
  contextSize?: number;
  /** CPU threads; set explicitly, since llama.cpp's own default crawls on small machines. */
  threads?: number;
  gpu?: GpuChoice;
  gpuLayers?: number | "auto" | "max";
  /** Parallel sequences in one context (batched decoding); the runner's concurrency by default. */
  sequences?: number;
  cacheDir?: string;
  onDownloadProgress?: (progress: DownloadProgress) => void;
}

export const DEFAULT_CONTEXT_SIZE = 2048;

/** A loaded model with one context whose sequences serve parallel work items. */
export interface LoadedModel {
  model: LlamaModel;
  /** The GGUF file it was loaded from. */
  path: string;
  context: LlamaContext;
  /** How many sequences the context has: the most requests evaluated side by side. */
  sequences: number;
  /** A free sequence, waiting for one when all are busy; a cancelled wait gives up (and takes none). */
  take(signal?: AbortSignal): Promise<LlamaSequence>;
  give(sequence: LlamaSequence): void;
}

/** One shared load: the model objects that use it, and whether it has been freed. */
export interface Shared<T> {
  value: Promise<T>;
  users: number;
  /** Freed, or failed to load: a model object holding it loads anew on its next call. */
  stale: boolean;
  free(): Promise<void>;
}

// Models load once per process and are shared by every model object that names them (and every run in it),
// node-llama-cpp's loads and the dense-logits addon's (native-fidelity.ts) alike; a load is freed when the last of its users disposes, or by disposeLocalModels.
const loaded = new Map<string, Shared<unknown>>();

export function share<T>(key: string, load: () => Promise<T>, free: (value: T) => Promise<void>): Shared<T> {
  let entry = loaded.get(key) as Shared<T> | undefined;
  if (!entry || entry.stale) {
    const value = load();
    const created: Shared<T> = {
      value,
      users: 0,
      stale: false,
      free: async () => {
        created.stale = true;
        if (loaded.get(key) === created) loaded.delete(key);
        const ready = await value.catch(() => undefined);
        if (ready) await free(ready);
      },
    };
    value.catch(() => {
      created.stale = true;
      if (loaded.get(key) === created) loaded.delete(key);
    });
    loaded.set(key, created as Shared<unknown>);
    entry = created;
  }
  entry.users++;
  return entry;
}

/** Frees every local model of this process, in use or not; model objects that are called again load anew. */
export async function disposeLocalModels(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  for (const entry of all) await entry.free();
}

/**
 * The model's file: a path is used where it is (never copied); an hf: file comes from alignbench's cache, the
 * Hugging Face cache or a download (ensureHubFile). Either must start with the GGUF magic.
 */
export async function modelFile(modelId: string, settings: LlamaCppSettings, signal?: AbortSignal): Promise<string> {
  let path: string;
  if (modelId.startsWith("hf:")) {
    const options: Parameters<typeof ensureHubFile>[1] = signal ? { signal } : {};
    if (settings.cacheDir) options.cacheDir = settings.cacheDir;
    if (settings.onDownloadProgress) options.onProgress = settings.onDownloadProgress;
    path = await ensureHubFile(modelId, options);
  } else {
    path = resolve(modelId);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new UserError(`${path}: no such GGUF file (pass llamacpp:./path/to/model.gguf or llamacpp:hf:owner/repo/file.gguf)`);
  }
  const magic = Buffer.alloc(4);
  try {
    const handle = await open(path, "r");
    await handle.read(magic, 0, 4, 0).finally(() => handle.close());
  } catch (error) {
    throw new UserError(`${path}: cannot read this model file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (magic.toString("latin1") !== "GGUF") throw new UserError(`${path}: not a GGUF file (it does not start with the GGUF magic bytes)`);
  return path;
}

export async function load(modelId: string, settings: LlamaCppSettings, signal?: AbortSignal): Promise<LoadedModel> {
  const path = await modelFile(modelId, settings, signal);
  const runtime = await llamaRuntime(settings.gpu ?? "auto");
  const loadOptions: { modelPath: string; gpuLayers?: number | "auto" | "max" } = { modelPath: path };
  if (settings.gpuLayers !== undefined) loadOptions.gpuLayers = settings.gpuLayers;
  let model: LlamaModel;
  try {
    model = await runtime.loadModel(loadOptions);
  } catch (error) {
    throw new UserError(`${path}: llama.cpp cannot load this model (${(error as Error).message}); the file may be corrupt or truncated`);
  }
  const sequences = Math.max(1, settings.sequences ?? 1);
  const context = await model.createContext({
    sequences,
    contextSize: settings.contextSize ?? DEFAULT_CONTEXT_SIZE,
    threads: settings.threads ?? Math.max(1, availableParallelism() - 1),
    batching: { itemPrioritizationStrategy: unmixedBatches },
  });
  const free: LlamaSequence[] = Array.from({ length: sequences }, () => context.getSequence());
  const waiting: Array<(sequence: LlamaSequence) => void> = [];
  return {
    model,
    path,
    context,
    sequences,
    take: (signal) => {
      const sequence = free.pop();
      if (sequence) return Promise.resolve(sequence);
      if (signal?.aborted) return Promise.reject(new ProviderError("cancelled", "generation cancelled"));
      return new Promise((resolveTake, rejectTake) => {
        const onAbort = () => {
          const at = waiting.indexOf(handOver);
          if (at >= 0) waiting.splice(at, 1);
          rejectTake(new ProviderError("cancelled", "generation cancelled"));
        };
        const handOver = (given: LlamaSequence) => {
          signal?.removeEventListener("abort", onAbort);
          resolveTake(given);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiting.push(handOver);
      });
    },
    give: (sequence) => {
      const next = waiting.shift();
      if (next) next(sequence);
      else free.push(sequence);
    },
  };
}

/** The model's vocabulary alone (no weights), for tokenizing without loading the model. */
export async function loadVocabulary(modelId: string, settings: LlamaCppSettings): Promise<LlamaModel> {
  const path = await modelFile(modelId, settings);
  const runtime = await llamaRuntime(settings.gpu ?? "auto");
  try {
    return await runtime.loadModel({ modelPath: path, vocabOnly: true });
  } catch (error) {
    throw new UserError(`${path}: llama.cpp cannot read this model's vocabulary (${(error as Error).message}); the file may be corrupt or truncated`);
  }
}
