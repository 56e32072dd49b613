import { ProviderError } from "../errors.js";
import type { LoglikelihoodResult, TokenLogprobs } from "../types.js";
import { vocabularyFingerprint } from "../vocabulary.js";
import type { LlamaModel, LlamaSequence, Token } from "./library.js";
import { biased, evaluateRange, PLAIN, probabilitiesOf, resolve } from "./llamacpp-probabilities.js";

/** A text's tokens as the model scores them: after its beginning-of-sequence token, when it has one. */
export function tokensOf(model: LlamaModel, text: string): Token[] {
  return model.tokens.bos === null ? model.tokenize(text) : [model.tokens.bos, ...model.tokenize(text)];
}

/** Positions × vocabulary entries read from llama.cpp in one evaluation: bounds the memory of dense log-probabilities (a Map entry each). */
const DENSE_CHUNK_ENTRIES = 1 << 20;

export function vocabularyOf(model: LlamaModel): { size: number; fingerprint: string } {
  let known = vocabularies.get(model);
  if (!known) {
    const tokenizer = model.fileInfo.metadata?.tokenizer?.ggml;
    if (!tokenizer?.tokens) throw new ProviderError("internal", "the GGUF file has no tokenizer.ggml.tokens: its vocabulary is unknown");
    known = { size: tokenizer.tokens.length, fingerprint: vocabularyFingerprint({ model: tokenizer.model, tokens: tokenizer.tokens, merges: tokenizer.merges }) };
    vocabularies.set(model, known);
  }
  return known;
}
const vocabularies = new WeakMap<LlamaModel, { size: number; fingerprint: string }>();

/** The vocabulary's size from the GGUF metadata, or a large one (256k) where the file does not list its tokens. */
function vocabularySizeHint(model: LlamaModel): number {
  return model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 1 << 18;
}

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError("cancelled", "scoring cancelled");
}

export function compareTokens(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  for (let index = 0; index < limit; index++) if (a[index] !== b[index]) return a[index]! - b[index]!;
  return a.length - b.length;
}

/**
 * Dense next-token log-probabilities of `tokens` on a fresh sequence: one row per token, evaluated in chunks
 * so that llama.cpp's per-position probability maps never hold more than DENSE_CHUNK_ENTRIES values at once.
 * A row's tokens below the float32 range are recovered by evaluating that position again (llamacpp-probabilities).
 */
export async function denseLogprobs(model: LlamaModel, sequence: LlamaSequence, tokens: readonly Token[], signal: AbortSignal | undefined): Promise<TokenLogprobs> {
  const vocabSize = vocabularyOf(model).size;
  const logprobs = new Float32Array(tokens.length * vocabSize);
  const chunk = Math.max(1, Math.floor(DENSE_CHUNK_ENTRIES / vocabSize));
  for (let start = 0; start < tokens.length; start += chunk) {
    cancelled(signal);
    const end = Math.min(tokens.length, start + chunk);
    const output = await evaluateRange(sequence, tokens, start, end, () => PLAIN);
    const rows = Array.from({ length: end - start }, (_, offset) => probabilitiesOf(output(start + offset)));
    for (let position = start; position < end; position++) {
      const probabilities = rows[position - start]!;
      if (probabilities.size !== vocabSize) throw new ProviderError("internal", `llama.cpp returned ${probabilities.size} probabilities for a vocabulary of ${vocabSize}`);
      const row = logprobs.subarray(position * vocabSize, (position + 1) * vocabSize);
      await resolve(
        probabilities,
        undefined,
        (bias) => rescore(model, sequence, tokens, position, bias),
        (token, logprob) => {
          if (token >= vocabSize) throw new ProviderError("internal", `llama.cpp returned a probability for token ${token}, beyond the vocabulary of ${vocabSize}`);
          row[token] = logprob;
        },
      );
    }
  }
  return { tokens: Uint32Array.from(tokens), logprobs, vocabSize };
}

/** The probabilities after `tokens[position]` once more, with a logit bias (the sequence is brought back to that point). */
export async function rescore(model: LlamaModel, sequence: LlamaSequence, tokens: readonly Token[], position: number, bias: Map<Token, number>): Promise<Map<Token, number>> {
  const options = await biased(model, bias);
  const output = await evaluateRange(sequence, tokens, position, position + 1, () => options);
  return probabilitiesOf(output(position));
}

/**
 * Context and continuation tokenised together; the continuation is what follows the context's own tokens.
 * `addBos` (default: the vocabulary's own add-BOS flag, what lm-evaluation-harness's HF models use since
 * 0.4.10 and what llama.cpp's server does for its gguf models) says whether the beginning-of-sequence token
 * comes first. An empty context is the BOS token (or end-of-sequence where there is none), as
 * lm-evaluation-harness's prefix token.
 */
export function scoredTokens(llamaModel: LlamaModel, context: string, continuation: string, address: string, addBos?: boolean): { whole: Token[]; from: number; bos: boolean } {
  // As lm-evaluation-harness does, trailing spaces of the context move to the continuation.
  const spaces = context.length - context.trimEnd().length;
  if (spaces > 0) {
    continuation = context.slice(-spaces) + continuation;
    context = context.slice(0, -spaces);
  }
  const { bos: bosToken, eos: eosToken, shouldPrependBosToken } = llamaModel.tokens;
  const bos = addBos ?? shouldPrependBosToken;
  if (bos && bosToken === null) throw new ProviderError("client_error", `${address}: add_bos is true but this model has no beginning-of-sequence token`);
  const prefix = bos ? [bosToken!] : [];
  let contextTokens = [...prefix, ...llamaModel.tokenize(context)];
  let whole = [...prefix, ...llamaModel.tokenize(context + continuation)];
  if (contextTokens.length === 0) {
    const start = bosToken ?? eosToken;
    if (start === null) throw new ProviderError("client_error", `${address}: an empty context needs a model with a beginning- or end-of-sequence token`);
    contextTokens = [start];
    whole = [start, ...whole];
  }
  if (contextTokens.length >= whole.length) throw new ProviderError("client_error", `${address}: the continuation adds no tokens to the context`);
  return { whole, from: contextTokens.length, bos: whole[0] === bosToken && bosToken !== null };
}

/**
 * Scores requests on one sequence in the order given, keeping the state of the tokens a request shares
 * with the one before (its context, when they share one) instead of evaluating them again.
 */
export async function scoreOnSequence(
  llamaModel: LlamaModel,
  sequence: LlamaSequence,
  items: Array<{ index: number; whole: Token[]; from: number; bos: boolean }>,
  results: LoglikelihoodResult[],
  signal: AbortSignal | undefined,
): Promise<void> {
  // Each scored position hands over the whole vocabulary's probabilities: a long continuation is evaluated in
  // chunks, as dense log-probabilities are, so that memory stays bounded.
  const chunk = Math.max(1, Math.floor(DENSE_CHUNK_ENTRIES / vocabularySizeHint(llamaModel)));
  for (const { index, whole, from, bos } of items) {
    const tokens: LoglikelihoodResult["tokens"] = [];
    let logprob = 0;
    let isGreedy = true;
    // Probabilities are needed from the context's last token on (so at most the tokens before it are kept);
    // the last token predicts nothing scored, so it is not evaluated.
    for (let start = from - 1; start < whole.length - 1; start += chunk) {
      cancelled(signal);
      const end = Math.min(whole.length - 1, start + chunk);
      const output = await evaluateRange(sequence, whole, start, end, () => PLAIN);
      // Every position is read before any is evaluated again (a rescore moves the sequence back).
      const rows = Array.from({ length: end - start }, (_, offset) => probabilitiesOf(output(start + offset)));
      for (let position = start; position < end; position++) {
        const row = rows[position - start]!;
        const token = whole[position + 1]!;
        let scored = Number.NaN;
        const top = await resolve(
          row,
          [token],
          (bias) => rescore(llamaModel, sequence, whole, position, bias),
          (_token, value) => (scored = value),
        );
        logprob += scored;
        // The greedy token is the argmax; on a tie the map's order is arbitrary, so an equal probability counts too.
        isGreedy &&= top === token || row.get(token) === row.get(top);
        tokens.push({ token: llamaModel.detokenize([token]), logprob: scored });
      }
    }
    results[index] = { logprob, isGreedy, tokens, bos };
  }
}
