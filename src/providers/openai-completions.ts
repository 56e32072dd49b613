import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";
import type { LoglikelihoodResult, TokenDistribution } from "./types.js";

interface EchoLogprobs {
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null> | null;
  text_offset?: number[];
}

interface CompletionAnswer {
  choices?: Array<{ logprobs?: EchoLogprobs | null }>;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Scoring through an OpenAI-compatible *completions* endpoint that echoes the prompt with log-probabilities
 * (vLLM, llama.cpp server, text-generation-inference's OpenAI layer). The model scores the whole text, so
 * context and continuation are tokenised together, as lm-evaluation-harness does.
 */
export class EchoScorer {
  private readonly url: string;

  constructor(baseUrl: string, private readonly modelId: string, private readonly headers: Record<string, string>) {
    this.url = baseUrl.replace(/\/+$/, "") + "/completions";
  }

  async loglikelihood(context: string, continuation: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<LoglikelihoodResult> {
    const positions = await this.score(context + continuation, 1, options);
    // The continuation's tokens are those that end after the context does; a token straddling the boundary
    // belongs to the continuation (the context's last characters merged into it).
    const continuationTokens = positions.filter((position) => position.end > context.length);
    if (continuationTokens.length === 0) throw new ProviderError("bad_response", `${this.url}: the echoed tokens do not reach the continuation`);
    let logprob = 0;
    let isGreedy = true;
    for (const position of continuationTokens) {
      if (position.logprob === null) throw new ProviderError("bad_response", `${this.url}: no log-probability for token "${position.token}" of the continuation`);
      logprob += position.logprob;
      const best = position.top[0];
      if (best && best.token !== position.token && best.logprob > position.logprob) isGreedy = false;
    }
    return { logprob, isGreedy, tokens: continuationTokens.map((position) => ({ token: position.token, logprob: position.logprob! })) };
  }

  async tokenDistributions(text: string, options: { topK?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TokenDistribution[]> {
    const positions = await this.score(text, options.topK ?? 5, options);
    return positions
      .filter((position) => position.logprob !== null)
      .map((position) => ({ token: position.token, logprob: position.logprob!, top: position.top }));
  }

  private async score(prompt: string, topK: number, options: { timeoutMs?: number; signal?: AbortSignal }) {
    const body = { model: this.modelId, prompt, max_tokens: 0, echo: true, logprobs: topK, temperature: 0 };
    const request: Parameters<typeof postJson>[2] = { headers: this.headers, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    if (options.signal) request.signal = options.signal;
    const answer = (await postJson(this.url, body, request)) as CompletionAnswer;
    const logprobs = answer.choices?.[0]?.logprobs;
    if (!logprobs?.tokens || !logprobs.token_logprobs) {
      throw new ProviderError("client_error", `${this.url} did not echo the prompt with log-probabilities; it needs a completions endpoint supporting echo + logprobs (vLLM, llama.cpp server)`);
    }
    let offset = 0;
    return logprobs.tokens.map((token, index) => {
      // Servers that omit text_offset: the echoed tokens concatenate to the prompt, so offsets add up.
      const start = logprobs.text_offset?.[index] ?? offset;
      offset = start + token.length;
      const top = Object.entries(logprobs.top_logprobs?.[index] ?? {})
        .map(([candidate, value]) => ({ token: candidate, logprob: value }))
        .sort((a, b) => b.logprob - a.logprob);
      return { token, start, end: offset, logprob: logprobs.token_logprobs![index] ?? null, top };
    });
  }
}
