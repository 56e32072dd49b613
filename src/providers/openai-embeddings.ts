import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";
import type { EmbedOptions } from "./types.js";
import { joinUrl, redactUrl } from "./url.js";

const DEFAULT_TIMEOUT_MS = 60_000;

interface EmbeddingsAnswer {
  data?: Array<{ index?: number; embedding?: unknown }>;
}

/** Embeddings from an OpenAI-compatible `/embeddings` endpoint (OpenAI, vLLM, llama.cpp server, Ollama…), one vector per text in order. */
export async function postEmbeddings(baseUrl: string, modelId: string, headers: Record<string, string>, texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
  if (texts.length === 0) return [];
  const url = joinUrl(baseUrl, "/embeddings");
  const post: Parameters<typeof postJson>[2] = { headers, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  if (options.signal) post.signal = options.signal;
  const answer = (await postJson(url, { model: modelId, input: texts, encoding_format: "float" }, post)) as EmbeddingsAnswer;
  const data = answer.data;
  if (!Array.isArray(data) || data.length !== texts.length) {
    throw new ProviderError("bad_response", `${redactUrl(url)} answered ${Array.isArray(data) ? data.length : "no"} embeddings for ${texts.length} texts`);
  }
  const vectors: number[][] = new Array(texts.length);
  data.forEach((entry, position) => {
    // The answer lists each input's `index`; servers that leave it out answer in order.
    const index = typeof entry.index === "number" ? entry.index : position;
    const vector = entry.embedding;
    if (!Array.isArray(vector) || vector.length === 0 || !vector.every((value) => typeof value === "number" && Number.isFinite(value))) {
      throw new ProviderError("bad_response", `${redactUrl(url)}: embedding ${index} is not a list of numbers (ask for encoding_format "float")`);
    }
    if (index < 0 || index >= texts.length || vectors[index]) throw new ProviderError("bad_response", `${redactUrl(url)}: embedding index ${index} is out of place`);
    vectors[index] = vector as number[];
  });
  return vectors;
}
