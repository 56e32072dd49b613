import { availableParallelism } from "node:os";
import type { LanguageModel } from "../types.js";
import { DEFAULT_CONTEXT_SIZE, modelFile, share, type LlamaCppSettings, type Shared } from "./llamacpp-loading.js";
import { freeNativeModel, loadNativeModel, type DenseLogitsAddon, type NativeModel } from "./native-fidelity.js";

// Which model objects can take the dense-logits path, and their load there. Fidelity Loss asks the fine-tuned
// model for statistics against its base (another model object): the provider finds the base's own load here.
// The runner hands plans its models wrapped in policies (Object.create of the model), so the lookup walks the
// prototype chain back to the object the provider made.

type NativeLoader = (native: DenseLogitsAddon) => Promise<NativeModel>;

const twins = new WeakMap<object, NativeLoader>();

export function registerNativeTwin(model: LanguageModel, loader: NativeLoader): void {
  twins.set(model, loader);
}

export function nativeTwinOf(model: LanguageModel): NativeLoader | undefined {
  for (let current: object | null = model; current; current = Object.getPrototypeOf(current) as object | null) {
    const loader = twins.get(current);
    if (loader) return loader;
  }
  return undefined;
}

/** The addon's load of a model, shared by every model object of the same file and settings. */
export function nativeLoad(native: DenseLogitsAddon, modelId: string, settings: LlamaCppSettings): Shared<NativeModel> {
  const contextSize = settings.contextSize ?? DEFAULT_CONTEXT_SIZE;
  const threads = settings.threads ?? Math.max(1, availableParallelism() - 1);
  // No GPU: every layer on the CPU; else the layers asked for, or all (llama.cpp keeps them on the CPU without a GPU).
  const gpuLayers = settings.gpu === false ? 0 : typeof settings.gpuLayers === "number" ? settings.gpuLayers : -1;
  const key = JSON.stringify(["native", modelId, contextSize, threads, settings.gpu, gpuLayers]);
  return share(
    key,
    async () => loadNativeModel(native, await modelFile(modelId, settings), { contextSize, threads, gpuLayers }),
    (loaded) => freeNativeModel(native, loaded),
  );
}
