import { ProviderError } from "../errors.js";
import { logprobRow } from "../dense-logprobs.js";
import type { LanguageModel, LoglikelihoodResult, ScoringOptions, TokenLogprobs } from "../types.js";

// Log-likelihoods of a token-level mixture, so multiple-choice suites score `moe:mix:` models too. Each
// expert's dense next-token log-probabilities of the whole text (its `tokenLogprobs`, which reads the text
// after the beginning-of-sequence token where the vocabulary has one) are mixed position by position:
//   log P(x_t | x_<t) = log Σ_i w_i P_i(x_t | x_<t)
// with the weights of the prompt's routing (the context's). The continuation is the text's last k tokens,
// k = tokens(context + continuation) − tokens(context without its trailing spaces), as log-likelihoods are
// split everywhere in alignbench (trailing spaces of the context move to the continuation).

/** The weighted mixture of dense results of one text: row by row, log Σ_i w_i exp(row_i). */
export function mixTokenLogprobs(results: readonly TokenLogprobs[], weights: readonly number[]): TokenLogprobs {
  const first = results[0]!;
  for (const result of results) {
    if (result.vocabSize !== first.vocabSize || result.tokens.length !== first.tokens.length || result.tokens.some((token, index) => token !== first.tokens[index])) {
      throw new ProviderError("client_error", "the experts read the text as different tokens: a mixture needs experts sharing a vocabulary");
    }
  }
  const logprobs = new Float32Array(first.logprobs.length);
  for (let index = 0; index < logprobs.length; index++) {
    let sum = 0;
    results.forEach((result, expert) => (sum += weights[expert]! * Math.exp(result.logprobs[index]!)));
    logprobs[index] = Math.log(sum);
  }
  return { tokens: first.tokens, logprobs, vocabSize: first.vocabSize };
}

/** The mixture's log-likelihood of `continuation` after `context`, from its mixed dense rows. */
export async function mixedLoglikelihood(experts: readonly LanguageModel[], weights: readonly number[], context: string, continuation: string, options: ScoringOptions): Promise<LoglikelihoodResult> {
  const lead = experts[0]!;
  if (options.addBos === false)
    throw new ProviderError("client_error", `${lead.address}: a mixture's log-likelihoods read the text after the beginning-of-sequence token; add_bos false is not supported`);
  const scoring: ScoringOptions = options.signal ? { signal: options.signal } : {};
  const whole = context + continuation;
  const dense = mixTokenLogprobs(await Promise.all(experts.map(async (expert) => (await expert.tokenLogprobs!([whole], scoring))[0]!)), weights);
  const trimmed = context.trimEnd();
  const wholeTokens = (await lead.tokenize!(whole)).ids.length;
  const continuationTokens = wholeTokens - (trimmed === "" ? 0 : (await lead.tokenize!(trimmed)).ids.length);
  const start = dense.tokens.length - continuationTokens;
  if (continuationTokens <= 0) throw new ProviderError("client_error", `${lead.address}: the continuation adds no tokens to the context`);
  if (start < 1) throw new ProviderError("client_error", `${lead.address}: an empty context needs a model with a beginning-of-sequence token`);
  const tokens: LoglikelihoodResult["tokens"] = [];
  let logprob = 0;
  let isGreedy = true;
  for (let position = start; position < dense.tokens.length; position++) {
    const row = logprobRow(dense, position - 1);
    const token = dense.tokens[position]!;
    let best = row[0]!;
    for (let other = 1; other < row.length; other++) if (row[other]! > best) best = row[other]!;
    isGreedy &&= row[token]! >= best;
    logprob += row[token]!;
    tokens.push({ token: await lead.detokenize!([token]), logprob: row[token]! });
  }
  // The dense rows start with the beginning-of-sequence token when the text's own tokens are one fewer.
  return { logprob, isGreedy, tokens, bos: dense.tokens.length > wholeTokens };
}
