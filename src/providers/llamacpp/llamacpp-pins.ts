import { createHash } from "node:crypto";
import { sha256File } from "../../io/hash-file.js";
import type { LlamaCppSettings, LoadedModel } from "./llamacpp-loading.js";
import type { NodeLlamaCppChat } from "./library.js";

// A file's hash, once per path and size per process: a resume or a second role of one model does not read
// several gigabytes again.
const fileHashes = new Map<string, Promise<string>>();

/**
 * What pins a local model's outputs beyond its address: the GGUF file's sha256, the chat template LlamaChat
 * applies (its wrapper's name, and the GGUF's own Jinja template's sha256, which the "auto" choice follows or
 * replaces by a specialised wrapper), and the context settings that batched log-likelihoods depend on.
 */
export async function describeLoaded(loaded: LoadedModel, settings: LlamaCppSettings, library: NodeLlamaCppChat): Promise<Record<string, string | number | boolean | null>> {
  let hash = fileHashes.get(loaded.path);
  if (!hash) fileHashes.set(loaded.path, (hash = sha256File(loaded.path)));
  const template = loaded.model.fileInfo.metadata?.tokenizer?.chat_template;
  return {
    file_sha256: await hash,
    chat_wrapper: library.resolveChatWrapper(loaded.model).wrapperName,
    gguf_chat_template_sha256: typeof template === "string" ? createHash("sha256").update(template).digest("hex") : null,
    add_bos: loaded.model.tokens.shouldPrependBosToken,
    context_size: loaded.context.contextSize,
    sequences: loaded.sequences,
    gpu: settings.gpu === undefined ? "auto" : String(settings.gpu),
    gpu_layers: settings.gpuLayers === undefined ? "auto" : String(settings.gpuLayers),
  };
}
