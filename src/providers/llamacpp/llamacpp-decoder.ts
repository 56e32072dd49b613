import { ProviderError } from "../errors.js";
import type { Message } from "../messages.js";
import type { TokenDecoder } from "../types.js";
import { loadLibrary, type ChatHistoryItem, type Token } from "./library.js";
import { history } from "./llamacpp-generation.js";
import type { LoadedModel } from "./llamacpp-loading.js";
import { evaluateRange, PLAIN, probabilitiesOf, resolve } from "./llamacpp-probabilities.js";
import { rescore, tokensOf, vocabularyOf } from "./llamacpp-scoring.js";

/**
 * A decoder over token ids on one sequence of a loaded model, held until `close`. Each `next` row is computed
 * as the dense `tokenLogprobs` rows are (the same PLAIN evaluation and underflow recovery), so a mixture built
 * from decoders mixes exactly the distributions the dense API reports.
 */
export async function openLlamaDecoder(loaded: LoadedModel, address: string, signal?: AbortSignal): Promise<TokenDecoder> {
  const model = loaded.model;
  const { size: vocabSize, fingerprint } = vocabularyOf(model);
  const sequence = await loaded.take(signal);
  let closed = false;
  return {
    vocabSize,
    fingerprint,
    async chatTokens(messages: readonly Message[]): Promise<number[]> {
      const { resolveChatWrapper } = await loadLibrary();
      // As LlamaChat does: the model's chat template, with an empty assistant turn for the model to fill.
      const chatHistory: ChatHistoryItem[] = [...history(messages), { type: "model", response: [] }];
      return resolveChatWrapper(model).generateContextState({ chatHistory }).contextText.tokenize(model.tokenizer);
    },
    textTokens: (text) => tokensOf(model, text),
    async next(tokens: readonly Token[], cancel?: AbortSignal): Promise<Float32Array> {
      if (closed) throw new ProviderError("client_error", `${address}: this decoder is closed`);
      if (tokens.length === 0) throw new ProviderError("client_error", `${address}: a decoder needs at least one token to predict the next`);
      if (tokens.length > loaded.context.contextSize) {
        throw new ProviderError("client_error", `${address}: ${tokens.length} tokens do not fit the context of ${loaded.context.contextSize} (raise context_size)`);
      }
      if (cancel?.aborted) throw new ProviderError("cancelled", "generation cancelled");
      const position = tokens.length - 1;
      const output = await evaluateRange(sequence, tokens, position, tokens.length, () => PLAIN);
      const row = new Float32Array(vocabSize);
      await resolve(
        probabilitiesOf(output(position)),
        undefined,
        (bias) => rescore(model, sequence, tokens, position, bias),
        (token, logprob) => {
          if (token >= vocabSize) throw new ProviderError("internal", `llama.cpp returned a probability for token ${token}, beyond the vocabulary of ${vocabSize}`);
          row[token] = logprob;
        },
      );
      return row;
    },
    isEnd: (token) => model.isEogToken(token),
    text: (tokens, before) => model.detokenize(tokens, false, before ? before.slice(-8) : undefined),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await sequence.clearHistory();
      loaded.give(sequence);
    },
  };
}
