import { ProviderError } from "../errors.js";
import { loadLibrary, type LlamaModel, type LlamaSequence, type NextOptions, type NextOutput, type Token } from "./library.js";

// node-llama-cpp 3.21.1 hands no logits to JavaScript: a position evaluated with `probabilities: true` returns
// a Map token → probability, computed by its addon (AddonContext.cpp, SampleToken) from the candidates left by
// the sampler chain. With temperature 0 that chain is the greedy sampler alone (plus a token-bias sampler when
// a bias is given), which picks the argmax and changes no logit: no top-k, top-p, min-p or repeat penalty runs
// (a fresh sampler per controlledEvaluate call, and none configured). The map then holds every vocabulary
// token, sorted by logit, with p = expf(logit − max) / Σ expf(logit − max) in float32. So log p is the exact
// log-softmax up to float32 rounding — except below the smallest normal float32 (log p < −87.3), where p is
// a denormal with few significant bits, or 0. Those tokens are recovered by the token bias: see resolve().

/** Smallest normal float32: a probability below it has lost precision (a denormal) or underflowed to 0. */
const FLOAT32_MIN_NORMAL = 2 ** -126;
/**
 * Rounds of biasing (each an evaluation of the position) before a token is given up as −Infinity: about 900
 * nats below the top token, far beyond any trained model's logits, so in effect a −inf logit (masked tokens),
 * which no bias can bring back.
 */
const MAX_ROUNDS = 12;

/** Options of an evaluated position whose probabilities are the unaltered softmax of the logits. */
export const PLAIN: NextOptions = { probabilities: true, options: { temperature: 0 } };

/**
 * Evaluates `tokens[start..end)` on `sequence`, with `next(position)` options for each, after bringing the
 * sequence to hold exactly `tokens[0..start)` (keeping the state it shares with them, evaluating the rest).
 * Returns a position's output.
 */
export async function evaluateRange(
  sequence: LlamaSequence,
  tokens: readonly Token[],
  start: number,
  end: number,
  next: (position: number) => NextOptions | undefined,
): Promise<(position: number) => NextOutput | undefined> {
  const keep = Math.min(commonPrefix(sequence.contextTokens, tokens), start);
  if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
  const input = tokens.slice(keep, end).map((token, offset): Token | [Token, { generateNext: NextOptions }] => {
    const options = keep + offset >= start ? next(keep + offset) : undefined;
    return options ? [token, { generateNext: options }] : token;
  });
  const outputs = await sequence.controlledEvaluate(input);
  return (position) => outputs[position - keep]?.next;
}

export function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}

/** The probabilities of an output evaluated with PLAIN (or a bias), or an internal error. */
export function probabilitiesOf(output: NextOutput | undefined): Map<Token, number> {
  const probabilities = output?.probabilities;
  if (!probabilities || probabilities.size === 0) throw new ProviderError("internal", "llama.cpp returned no probabilities for a scored position");
  return probabilities;
}

/**
 * Natural-log probabilities, handed to `set`, of the `wanted` tokens (every token when undefined) from one
 * position's PLAIN probabilities; returns the most likely token. The normaliser is re-summed in double
 * precision (which removes the float32 sum's rounding). Tokens below the float32 range are recovered by
 * `rescore`, which evaluates the position again with a logit bias: with bias B on token t (none on the top
 * token r), p'(t) / p'(r) = exp(logit_t + B − logit_r), so log p(t) = log p'(t) − log p'(r) − B + log p(r). B
 * grows by a step small enough that r stays the most likely token (p'(r) ≥ 1/vocabulary) until every wanted
 * token is in the normal range. Accurate to about 1e-5 (the float32 rounding of logit + B); a token left after
 * MAX_ROUNDS gets −Infinity.
 */
export async function resolve(
  probabilities: Map<Token, number>,
  wanted: readonly Token[] | undefined,
  rescore: (bias: Map<Token, number>) => Promise<Map<Token, number>>,
  set: (token: Token, logprob: number) => void,
): Promise<Token> {
  const [top, topProbability] = probabilities.entries().next().value as [Token, number];
  let sum = 0;
  for (const probability of probabilities.values()) sum += probability;
  if (!(topProbability > 0) || !Number.isFinite(sum)) throw new ProviderError("internal", "llama.cpp returned probabilities that are not numbers: the model's logits are not finite");
  const norm = Math.log(sum);
  let pending: Token[] = [];
  const take = (token: Token, probability: number) => {
    if (probability >= FLOAT32_MIN_NORMAL) set(token, Math.log(probability) - norm);
    else pending.push(token);
  };
  if (wanted) for (const token of wanted) take(token, probabilities.get(token) ?? 0);
  else for (const [token, probability] of probabilities) take(token, probability);
  const topLogprob = Math.log(topProbability) - norm;
  // A token that underflowed at bias B has logit + B < logit_r − 87.3 + ln(vocabulary); a step of
  // 86 − ln(vocabulary) keeps it below logit_r. Whole numbers, so B is exact in float32.
  const step = Math.max(1, Math.floor(86 - Math.log(probabilities.size)));
  for (let round = 1; pending.length > 0 && round <= MAX_ROUNDS; round++) {
    const bias = round * step;
    const biased = await rescore(new Map(pending.map((token) => [token, bias])));
    const reference = biased.get(top) ?? 0;
    if (!(reference >= FLOAT32_MIN_NORMAL)) throw new ProviderError("internal", "llama.cpp's biased probabilities lost the most likely token");
    const left: Token[] = [];
    for (const token of pending) {
      const probability = biased.get(token) ?? 0;
      if (probability >= FLOAT32_MIN_NORMAL) set(token, Math.log(probability) - Math.log(reference) - bias + topLogprob);
      else left.push(token);
    }
    pending = left;
  }
  for (const token of pending) set(token, -Infinity);
  return top;
}

/**
 * Generation options with a logit bias. node-llama-cpp's public TokenBias.set() skips end-of-generation tokens
 * and converts from probabilities, so the bias map of its (pinned, 3.21.1) TokenBias object is filled directly:
 * its addon adds each value to that token's logit.
 */
export async function biased(model: LlamaModel, bias: Map<Token, number>): Promise<NextOptions> {
  const { TokenBias } = await loadLibrary();
  const tokenBias = new TokenBias(model.tokenizer);
  if (!(tokenBias._biases instanceof Map)) throw new ProviderError("internal", "this node-llama-cpp has no TokenBias bias map (alignbench needs node-llama-cpp 3.21.1)");
  for (const [token, value] of bias) tokenBias._biases.set(token, value);
  return { probabilities: true, options: { temperature: 0, tokenBias } };
}
