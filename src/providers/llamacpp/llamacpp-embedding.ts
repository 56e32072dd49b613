import { availableParallelism } from "node:os";
import { ProviderError } from "../errors.js";
import type { LlamaEmbeddingContext, LlamaModel } from "./library.js";

/**
 * Embeddings of texts from a local GGUF model (node-llama-cpp's embedding context: the model's pooled hidden
 * state, as llama.cpp's `--embedding` gives). One context per model object, made on first use.
 */
export class LlamaEmbedder {
  private context: Promise<LlamaEmbeddingContext> | undefined;
  constructor(
    private readonly address: string,
    private readonly threads: number | undefined,
  ) {}

  async embed(model: LlamaModel, texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    this.context ??= model.createEmbeddingContext({ threads: this.threads ?? Math.max(1, availableParallelism() - 1) }).catch((error: unknown) => {
      this.context = undefined;
      throw new ProviderError("client_error", `${this.address}: llama.cpp cannot make embeddings with this model (${(error as Error).message})`);
    });
    const context = await this.context;
    const vectors: number[][] = [];
    for (const text of texts) {
      if (signal?.aborted) throw new ProviderError("cancelled", "embedding cancelled");
      vectors.push([...(await context.getEmbeddingFor(text)).vector]);
    }
    return vectors;
  }

  async dispose(): Promise<void> {
    const context = await this.context?.catch(() => undefined);
    this.context = undefined;
    await context?.dispose();
  }
}
