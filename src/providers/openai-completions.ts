import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";
import { joinUrl, redactUrl } from "./url.js";
import type { CompletionRequest, GenerateResult, LoglikelihoodRequest, LoglikelihoodResult, ScoringOptions, TokenDistribution } from "./types.js";

interface EchoLogprobs {
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null> | null;
  text_offset?: number[];
}

interface CompletionAnswer {
  choices?: Array<{ index?: number; text?: string; finish_reason?: string | null; logprobs?: EchoLogprobs | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

interface Position {
  token: string;
  start: number;
  end: number;
  logprob: number | null;
  top: Array<{ token: string; logprob: number }>;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** Prompts sent in one request when the server takes a list. */
const PROMPTS_PER_REQUEST = 64;
/** Requests in flight at once for one batch call. */
const BATCH_CONCURRENCY = 4;
/** Requests in flight at once when the server takes one prompt a request. */
const SINGLE_CONCURRENCY = 8;

/**
 * A plain text completion on an OpenAI-compatible *completions* endpoint: the prompt goes as `prompt`, verbatim,
 * with no chat template, and the answer is the text that continues it. Every sampling option is sent as the
 * request gives it (the completions API names the limit max_tokens, OpenAI's own included).
 */
export async function postCompletion(baseUrl: string, modelId: string, headers: Record<string, string>, request: CompletionRequest): Promise<GenerateResult> {
  const url = joinUrl(baseUrl, "/completions");
  const options = request.options;
  const body: Record<string, unknown> = { model: modelId, prompt: request.prompt };
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.top_p !== undefined) body.top_p = options.top_p;
  if (options.max_tokens !== undefined) body.max_tokens = options.max_tokens;
  if (options.seed !== undefined) body.seed = options.seed;
  if (options.stop?.length) body.stop = options.stop;
  const started = performance.now();
  const answer = (await postJson(url, body, { headers, timeoutMs: request.timeoutMs, signal: request.signal })) as CompletionAnswer;
  const latencyMs = performance.now() - started;
  const choice = answer.choices?.[0];
  if (typeof choice?.text !== "string") throw new ProviderError("bad_response", `${redactUrl(url)} answered without choices[0].text (is it a completions endpoint?)`);
  return {
    text: choice.text,
    usage: { input_tokens: answer.usage?.prompt_tokens ?? 0, output_tokens: answer.usage?.completion_tokens ?? 0 },
    latencyMs,
    finishReason: choice.finish_reason ?? "unknown",
  };
}

/** Runs `job` on every item with at most `limit` at once; results in the items' order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Scoring through an OpenAI-compatible *completions* endpoint that echoes the prompt with log-probabilities
 * (vLLM, llama.cpp server, text-generation-inference's OpenAI layer). The model scores the whole text, so
 * context and continuation are tokenised together, as lm-evaluation-harness does.
 */
export class EchoScorer {
  private readonly url: string;
  /** The URL as messages name it, without its query values. */
  private readonly shown: string;

  constructor(
    baseUrl: string,
    private readonly modelId: string,
    private readonly headers: Record<string, string>,
  ) {
    this.url = joinUrl(baseUrl, "/completions");
    this.shown = redactUrl(this.url);
  }

  /** Whether the server scores a list of prompts in one request; unknown until a batch has been sent. */
  private takesLists: boolean | undefined;

  async loglikelihood(context: string, continuation: string, options: ScoringOptions = {}): Promise<LoglikelihoodResult> {
    this.noBosChoice(options);
    return this.fromPositions(await this.score(context + continuation, 1, options), context);
  }

  /**
   * Many log-likelihoods: the prompts go in one request as a list where the server takes one (OpenAI's
   * completions API, vLLM), else one request each, several at once.
   */
  async loglikelihoods(requests: readonly LoglikelihoodRequest[], options: ScoringOptions = {}): Promise<LoglikelihoodResult[]> {
    this.noBosChoice(options);
    const prompts = requests.map((request) => request.context + request.continuation);
    const scored = await this.scoreMany(prompts, 1, options);
    return requests.map((request, index) => this.fromPositions(scored[index]!, request.context));
  }

  /**
   * The server tokenises the prompt itself and adds a beginning-of-sequence token as its tokenizer says
   * (vLLM: the Hugging Face tokenizer's default; llama.cpp's server: the GGUF add-BOS flag), which is
   * lm-evaluation-harness's default too. The completions API has no field to change that, so an explicit
   * choice is refused rather than silently ignored (the run's preflight says so before the first item).
   */
  private noBosChoice(options: ScoringOptions): void {
    if (options.addBos !== undefined) {
      throw new ProviderError("client_error", `${this.shown}: add_bos ${options.addBos} cannot be applied: a completions server tokenises the prompt itself (use add_bos: auto)`);
    }
  }

  /** The continuation's tokens are those that end after the context does; a token straddling the boundary belongs to the continuation (the context's last characters merged into it). */
  private fromPositions(positions: Position[], context: string): LoglikelihoodResult {
    const continuationTokens = positions.filter((position) => position.end > context.length);
    if (continuationTokens.length === 0) throw new ProviderError("bad_response", `${this.shown}: the echoed tokens do not reach the continuation`);
    let logprob = 0;
    let isGreedy = true;
    for (const position of continuationTokens) {
      if (position.logprob === null) throw new ProviderError("bad_response", `${this.shown}: no log-probability for token "${position.token}" of the continuation`);
      logprob += position.logprob;
      const best = position.top[0];
      if (best && best.token !== position.token && best.logprob > position.logprob) isGreedy = false;
    }
    return { logprob, isGreedy, tokens: continuationTokens.map((position) => ({ token: position.token, logprob: position.logprob! })) };
  }

  async tokenDistributions(text: string, options: { topK?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TokenDistribution[]> {
    const positions = await this.score(text, options.topK ?? 5, options);
    return positions.filter((position) => position.logprob !== null).map((position) => ({ token: position.token, logprob: position.logprob!, top: position.top }));
  }

  private request(options: ScoringOptions): Parameters<typeof postJson>[2] {
    const request: Parameters<typeof postJson>[2] = { headers: this.headers, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    if (options.signal) request.signal = options.signal;
    return request;
  }

  private async score(prompt: string, topK: number, options: ScoringOptions): Promise<Position[]> {
    const body = { model: this.modelId, prompt, max_tokens: 0, echo: true, logprobs: topK, temperature: 0 };
    const answer = (await postJson(this.url, body, this.request(options))) as CompletionAnswer;
    const logprobs = answer.choices?.[0]?.logprobs;
    if (!logprobs?.tokens || !logprobs.token_logprobs) {
      throw new ProviderError("client_error", `${this.shown} did not echo the prompt with log-probabilities; it needs a completions endpoint supporting echo + logprobs (vLLM, llama.cpp server)`);
    }
    return this.positions(logprobs);
  }

  private async scoreMany(prompts: readonly string[], topK: number, options: ScoringOptions): Promise<Position[][]> {
    if (prompts.length <= 1 || this.takesLists === false) return mapLimit(prompts, SINGLE_CONCURRENCY, (prompt) => this.score(prompt, topK, options));
    const chunks: string[][] = [];
    for (let start = 0; start < prompts.length; start += PROMPTS_PER_REQUEST) chunks.push(prompts.slice(start, start + PROMPTS_PER_REQUEST));
    const scored = await mapLimit(chunks, BATCH_CONCURRENCY, async (chunk) => (chunk.length === 1 ? [await this.score(chunk[0]!, topK, options)] : this.scoreList(chunk, topK, options)));
    return scored.flat();
  }

  /** One request for a list of prompts; a server that answers it otherwise than one echo per prompt is asked one prompt at a time from then on. */
  private async scoreList(prompts: string[], topK: number, options: ScoringOptions): Promise<Position[][]> {
    if (this.takesLists !== false) {
      const body = { model: this.modelId, prompt: prompts, max_tokens: 0, echo: true, logprobs: topK, temperature: 0 };
      let answer: CompletionAnswer | undefined;
      try {
        answer = (await postJson(this.url, body, this.request(options))) as CompletionAnswer;
      } catch (error) {
        // A refusal of the request's shape: try one prompt a request. Anything else (rate limits, outages) is the caller's to retry.
        if (!(error instanceof ProviderError) || error.type !== "client_error") throw error;
      }
      const choices = answer?.choices ?? [];
      const byPrompt: Array<EchoLogprobs | undefined> = Array.from({ length: prompts.length }, () => undefined);
      if (choices.length === prompts.length) choices.forEach((choice, order) => (byPrompt[choice.index ?? order] = choice.logprobs ?? undefined));
      if (byPrompt.every((logprobs) => logprobs?.tokens && logprobs.token_logprobs)) {
        this.takesLists = true;
        return byPrompt.map((logprobs) => this.positions(logprobs!));
      }
      if (this.takesLists === undefined) this.takesLists = false;
    }
    return mapLimit(prompts, SINGLE_CONCURRENCY, (prompt) => this.score(prompt, topK, options));
  }

  private positions(logprobs: EchoLogprobs): Position[] {
    let offset = 0;
    return logprobs.tokens!.map((token, index) => {
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
