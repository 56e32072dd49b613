import type { Message } from "./messages.js";
import type { EndpointEvent, EndpointStats } from "./endpoints/endpoint-pool.js";

/** Sampling options; recorded with every result so a number can be traced to how it was produced. */
export interface GenerationOptions {
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
}

/** Ask for JSON output where the provider supports it (judges use this). */
export type ResponseFormat = { type: "json_schema"; name: string; schema: Record<string, unknown> } | { type: "json_object" };

export interface GenerateRequest {
  messages: Message[];
  options: GenerationOptions;
  responseFormat?: ResponseFormat;
  /** Return log-probabilities of the generated tokens, with this many alternatives per position. */
  topLogprobs?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A plain text completion: the model continues `prompt` as it stands (OpenAI's /v1/completions, llama.cpp
 * without a chat template), for benchmarks that measure how a model continues text (RealToxicityPrompts).
 */
export interface CompletionRequest {
  prompt: string;
  options: GenerationOptions;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top?: Array<{ token: string; logprob: number }>;
}

export interface GenerateResult {
  text: string;
  usage: TokenUsage;
  latencyMs: number;
  finishReason: string;
  logprobs?: TokenLogprob[];
  /**
   * Facts about how this answer was produced that belong with it (a mixture of experts' routing weights):
   * recorded with the call in the row's transcript. Plain JSON.
   */
  details?: Record<string, unknown>;
  /** Served from the response cache (`--cache`): no call was made. */
  cached?: boolean;
}

/** How likely a model finds `continuation` after `context`. */
export interface LoglikelihoodResult {
  /** Sum of the continuation tokens' log-probabilities (natural log). */
  logprob: number;
  /** Whether greedy decoding would have produced exactly these continuation tokens. */
  isGreedy: boolean;
  tokens: Array<{ token: string; logprob: number }>;
  /** Whether a beginning-of-sequence token preceded the context; absent where the server tokenised the text and does not say. */
  bos?: boolean;
}

/** The model's next-token distribution at one position of a text (full, or its top k). */
export interface TokenDistribution {
  /** The token that actually follows at this position, and its log-probability. */
  token: string;
  logprob: number;
  /** The most likely tokens here, most likely first. */
  top: Array<{ token: string; logprob: number }>;
}

/** A text's token ids, and a fingerprint of the vocabulary that produced them. */
export interface TokenizeResult {
  /** The text's own tokens, without a beginning-of-sequence token. */
  ids: Uint32Array | number[];
  /**
   * sha256 (hex) of the tokenizer's vocabulary: equal for two models that share a vocabulary (a base model and
   * its fine-tunes), different otherwise. See `sameVocabulary`.
   */
  fingerprint: string;
}

/**
 * The model's next-token log-probabilities at every position of one text, dense: no object per vocabulary
 * entry. Row `i` is log P(· | tokens[0..i]); it scores `tokens[i + 1]`, and the last row is the distribution
 * of the token after the text. Read one value as `logprobs[i * vocabSize + token]`.
 */
export interface TokenLogprobs {
  /** The text's tokens as the model reads them (after its beginning-of-sequence token, when it has one). */
  tokens: Uint32Array;
  /** `tokens.length × vocabSize` natural-log probabilities, row-major; each row's logsumexp is 0. */
  logprobs: Float32Array;
  vocabSize: number;
}

/**
 * Fidelity statistics of one text read by two models of one vocabulary (the model asked, and `base`), one
 * value per scored position: row `i` is the distribution after tokens[0..i], which predicts `tokens[i + 1]`.
 */
export interface FidelityStatistics {
  /** The text's tokens as both models read them (after the beginning-of-sequence token, when there is one). */
  tokens: Uint32Array;
  vocabSize: number;
  /** KL(P_model ‖ P_base) in nats, from the log-softmax of the two rows of logits, in double precision. */
  kl: Float64Array;
  /** Total-variation distance ½ Σ |p_model − p_base|. */
  tv: Float64Array;
  /** log P(tokens[i + 1]) under each model. */
  llTarget: Float64Array;
  llBase: Float64Array;
  /** Each model's most likely token (the lowest id among equal logits). */
  greedyTarget: Int32Array;
  greedyBase: Int32Array;
}

/** One log-likelihood request of a batch. */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

/** Options of the scoring calls (log-likelihoods, distributions). */
export interface ScoringOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Log-likelihoods only: whether a beginning-of-sequence token precedes the context. Absent: the model's own
   * tokenizer default (a GGUF file's add-BOS flag), as lm-evaluation-harness does. Only models with
   * `bosControl` accept a value; a completions server tokenises the prompt itself.
   */
  addBos?: boolean;
}

/**
 * Step-by-step decoding over token ids on one held sequence of a local model: what a token-level mixture of
 * several models needs (src/providers/moe/). Each `next` keeps the state the sequence shares with the tokens
 * of the call before, so a step evaluates one new token. `close` gives the sequence back.
 */
export interface TokenDecoder {
  readonly vocabSize: number;
  /** The vocabulary's fingerprint (see TokenizeResult): decoders mixed together must share it. */
  readonly fingerprint: string;
  /** A chat's tokens as the model's chat template renders it, ready for the assistant's turn. */
  chatTokens(messages: readonly Message[]): Promise<number[]>;
  /** A plain text's tokens after the beginning-of-sequence token (where the model has one). */
  textTokens(text: string): number[];
  /** Dense natural-log probabilities of the token after `tokens` (`vocabSize` values, logsumexp 0). */
  next(tokens: readonly number[], signal?: AbortSignal): Promise<Float32Array>;
  /** Whether a token ends generation (end of sequence, end of turn). */
  isEnd(token: number): boolean;
  /** The text of `tokens`, read after `before` (so a word-joining space is kept). */
  text(tokens: readonly number[], before?: readonly number[]): string;
  close(): Promise<void>;
}

/** Options of an embedding call. */
export interface EmbedOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One model behind one provider. Optional capabilities are optional members. */
export interface LanguageModel {
  /** As the user wrote it, e.g. `gpt-4.1` or `google:gemini-2.0-flash`. */
  readonly address: string;
  readonly provider: string;
  readonly modelId: string;
  /** The options this model's requests use unless a request says otherwise. */
  readonly defaults: GenerationOptions;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /**
   * Continues a text with no chat template and no roles (a completions endpoint, a local model's raw
   * continuation). Absent where the API only chats (Anthropic, Gemini): a plan that needs it refuses such
   * a model before the run starts, never falling back to a chat turn.
   */
  complete?(request: CompletionRequest): Promise<GenerateResult>;
  /**
   * What pins this model's outputs beyond its address and options, for the manifest (a local model's file
   * hash, the chat template actually applied and its hash, its batch settings); called after `prepare`.
   */
  describe?(): Promise<Record<string, string | number | boolean | null>>;
  /** Gets ready before the first call (a local model downloads and loads), so a bad model stops the run up front. */
  prepare?(options?: { signal?: AbortSignal }): Promise<void>;
  /** Log-likelihood of a continuation: tokenises context + continuation together and sums the continuation's tokens. */
  loglikelihood?(context: string, continuation: string, options?: ScoringOptions): Promise<LoglikelihoodResult>;
  /** Whether log-likelihood scoring takes `addBos` (local models, which tokenise the text themselves). */
  readonly bosControl?: boolean;
  /**
   * Log-likelihoods of many requests in one call, in the order given, each equal to what `loglikelihood` gives
   * alone. Local models evaluate a context shared by several requests once; completions endpoints get the batch
   * in one request where the server takes a list of prompts.
   */
  loglikelihoods?(requests: readonly LoglikelihoodRequest[], options?: ScoringOptions): Promise<LoglikelihoodResult[]>;
  /** Next-token distributions at every position of `text` after the first. */
  tokenDistributions?(text: string, options?: { topK?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<TokenDistribution[]>;
  /**
   * Dense next-token log-probabilities over the whole vocabulary at every position of each text, one typed
   * array per text (local models only: an API returns a few alternatives per position at most).
   */
  tokenLogprobs?(texts: readonly string[], options?: ScoringOptions): Promise<TokenLogprobs[]>;
  /**
   * Fidelity statistics of each text against `base` (another model with this one's vocabulary), computed next to
   * the logits with no per-token object (llamacpp: alignbench's native addon). Resolves to undefined where this
   * pair cannot take that path (base is not such a model, or the addon cannot be built here): the caller then
   * uses tokenLogprobs, which gives the same numbers more slowly.
   */
  fidelityStatistics?(base: LanguageModel, texts: readonly string[], options?: ScoringOptions): Promise<FidelityStatistics[] | undefined>;
  /** The text's token ids and the vocabulary's fingerprint (models whose tokenizer is known: local models). */
  tokenize?(text: string): Promise<TokenizeResult>;
  /** A decoder over token ids holding one of the model's sequences (local models; see TokenDecoder). */
  openDecoder?(options?: { signal?: AbortSignal }): Promise<TokenDecoder>;
  /** One embedding vector per text (an embedding model: OpenAI-compatible `/embeddings`, or a local GGUF). */
  embed?(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
  /** The text of token ids (a drift report shows the tokens whose distribution moved most, in context). */
  detokenize?(ids: readonly number[]): Promise<string>;
  /**
   * Frees what the model holds (a local model's weights and context, once no other model object shares them).
   * Afterwards every call is refused with a clear error. Calling it again does nothing.
   */
  dispose?(): Promise<void>;
  /** Several endpoints (`base_urls:`) or `concurrency: auto`: per-endpoint counters, and events for the run log. */
  readonly endpoints?: { stats(): EndpointStats[]; onEvent: ((event: EndpointEvent) => void) | undefined };
}

/** A model call with the run's policies (rate limit, retries, timeout) already applied. */
export type ModelCall = (request: Omit<GenerateRequest, "timeoutMs">) => Promise<GenerateResult>;

/** A plain completion with the run's policies applied. */
export type CompletionCall = (request: Omit<CompletionRequest, "timeoutMs">) => Promise<GenerateResult>;
