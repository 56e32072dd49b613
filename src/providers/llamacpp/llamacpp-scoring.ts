import { ProviderError } from "../errors.js";
import { logSoftmaxInPlace } from "../dense-logprobs.js";
import type { LoglikelihoodResult, TokenLogprobs } from "../types.js";
import { vocabularyFingerprint } from "../vocabulary.js";
import type { LlamaModel, LlamaSequence, Token } from "./library.js";

/** A text's tokens as the model scores them: after its beginning-of-sequence token, when it has one. */
export function tokensOf(model: LlamaModel, text: string): Token[] {
  return model.tokens.bos === null ? model.tokenize(text) : [model.tokens.bos, ...model.tokenize(text)];
}

/** Log-probability of `token` from a position's logits (log-softmax at temperature 1). */
function logprobFrom(output: { logits?: Map<Token, number>; totalLogitWeight?: number } | undefined, token: Token): { logprob: number; isTop: boolean } {
  const logits = output?.logits;
  const total = output?.totalLogitWeight;
  const top = logits?.entries().next().value as [Token, number] | undefined;
  const own = logits?.get(token);
  if (!top || own === undefined || total === undefined) throw new ProviderError("internal", "llama.cpp returned no logits for a scored position");
  return { logprob: own - top[1] - Math.log(total), isTop: top[0] === token || own >= top[1] };
}

/** Positions × vocabulary entries read from llama.cpp in one evaluation: bounds the memory of dense log-probabilities. */
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

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError("cancelled", "scoring cancelled");
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}

export function compareTokens(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  for (let index = 0; index < limit; index++) if (a[index] !== b[index]) return a[index]! - b[index]!;
  return a.length - b.length;
}

/**
 * Dense next-token log-probabilities of `tokens` on a fresh sequence: one row per token, evaluated in chunks
 * so that llama.cpp's per-position logit lists never hold more than DENSE_CHUNK_ENTRIES values at once.
 */
export async function denseLogprobs(model: LlamaModel, sequence: LlamaSequence, tokens: readonly Token[], signal: AbortSignal | undefined): Promise<TokenLogprobs> {
  const vocabSize = vocabularyOf(model).size;
  const logprobs = new Float32Array(tokens.length * vocabSize);
  const chunk = Math.max(1, Math.floor(DENSE_CHUNK_ENTRIES / vocabSize));
  for (let start = 0; start < tokens.length; start += chunk) {
    cancelled(signal);
    const end = Math.min(tokens.length, start + chunk);
    const input = tokens.slice(start, end).map((token): [Token, { generateNext: Record<string, unknown> }] => [token, { generateNext: { logits: true } }]);
    const outputs = await sequence.controlledEvaluate(input);
    for (let position = start; position < end; position++) {
      const logits = outputs[position - start]?.next.logits;
      if (!logits) throw new ProviderError("internal", "llama.cpp returned no logits for a scored position");
      const row = logprobs.subarray(position * vocabSize, (position + 1) * vocabSize);
      row.fill(-Infinity);
      for (const [token, logit] of logits) {
        if (token >= vocabSize) throw new ProviderError("internal", `llama.cpp returned a logit for token ${token}, beyond the vocabulary of ${vocabSize}`);
        row[token] = logit;
      }
      logSoftmaxInPlace(row);
    }
  }
  return { tokens: Uint32Array.from(tokens), logprobs, vocabSize };
}

/** Context and continuation tokenised together; the continuation is what follows the context's own tokens. */
export function scoredTokens(llamaModel: LlamaModel, context: string, continuation: string, address: string): { whole: Token[]; from: number } {
  // As lm-evaluation-harness does, trailing spaces of the context move to the continuation.
  const spaces = context.length - context.trimEnd().length;
  if (spaces > 0) {
    continuation = context.slice(-spaces) + continuation;
    context = context.slice(0, -spaces);
  }
  const contextTokens = tokensOf(llamaModel, context);
  const whole = tokensOf(llamaModel, context + continuation);
  if (contextTokens.length === 0) throw new ProviderError("client_error", `${address}: an empty context needs a model with a beginning-of-sequence token`);
  if (contextTokens.length >= whole.length) throw new ProviderError("client_error", `${address}: the continuation adds no tokens to the context`);
  return { whole, from: contextTokens.length };
}

/**
 * Scores requests on one sequence in the order given, keeping the state of the tokens a request shares
 * with the one before (its context, when they share one) instead of evaluating them again.
 */
export async function scoreOnSequence(
  llamaModel: LlamaModel,
  sequence: LlamaSequence,
  items: Array<{ index: number; whole: Token[]; from: number }>,
  results: LoglikelihoodResult[],
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const { index, whole, from } of items) {
    cancelled(signal);
    // Logits are needed from the context's last token on, so at most the tokens before it are kept.
    const keep = Math.min(commonPrefix(sequence.contextTokens, whole), from - 1);
    if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    // Only the positions whose next token is the continuation's need logits: that token's and the top one
    // (the normaliser, totalLogitWeight, is relative to the top logit). `includeMax` does not add the top
    // token in node-llama-cpp 3.22; `includeTop: 1` does. The last token predicts nothing scored, so it is
    // not evaluated.
    const input = whole.slice(keep, -1).map((token, offset): Token | [Token, { generateNext: Record<string, unknown> }] => {
      const position = keep + offset;
      return position >= from - 1 ? [token, { generateNext: { logits: { filter: { tokens: [whole[position + 1]!], includeTop: 1 } }, totalLogitWeight: true } }] : token;
    });
    const outputs = await sequence.controlledEvaluate(input);
    const tokens: LoglikelihoodResult["tokens"] = [];
    let logprob = 0;
    let isGreedy = true;
    for (let position = from; position < whole.length; position++) {
      const scored = logprobFrom(outputs[position - 1 - keep]?.next, whole[position]!);
      logprob += scored.logprob;
      isGreedy &&= scored.isTop;
      tokens.push({ token: llamaModel.detokenize([whole[position]!]), logprob: scored.logprob });
    }
    results[index] = { logprob, isGreedy, tokens };
  }
}
