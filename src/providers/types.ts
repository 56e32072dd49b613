import type { Message } from "../datasets/sample.js";

/** Sampling options; recorded with every result so a number can be traced to how it was produced. */
export interface GenerationOptions {
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
}

/** Ask for JSON output where the provider supports it (judges use this). */
export type ResponseFormat =
  | { type: "json_schema"; name: string; schema: Record<string, unknown> }
  | { type: "json_object" };

export interface GenerateRequest {
  messages: Message[];
  options: GenerationOptions;
  responseFormat?: ResponseFormat;
  /** Return log-probabilities of the generated tokens, with this many alternatives per position. */
  topLogprobs?: number;
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
}

/** How likely a model finds `continuation` after `context`. */
export interface LoglikelihoodResult {
  /** Sum of the continuation tokens' log-probabilities (natural log). */
  logprob: number;
  /** Whether greedy decoding would have produced exactly these continuation tokens. */
  isGreedy: boolean;
  tokens: Array<{ token: string; logprob: number }>;
}

/** The model's next-token distribution at one position of a text (full, or its top k). */
export interface TokenDistribution {
  /** The token that actually follows at this position, and its log-probability. */
  token: string;
  logprob: number;
  /** The most likely tokens here, most likely first. */
  top: Array<{ token: string; logprob: number }>;
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
  /** Gets ready before the first call (a local model downloads and loads), so a bad model stops the run up front. */
  prepare?(): Promise<void>;
  /** Log-likelihood of a continuation: tokenises context + continuation together and sums the continuation's tokens. */
  loglikelihood?(context: string, continuation: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<LoglikelihoodResult>;
  /** Next-token distributions at every position of `text` after the first. */
  tokenDistributions?(text: string, options?: { topK?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<TokenDistribution[]>;
}

/** A model call with the run's policies (rate limit, retries, timeout) already applied. */
export type ModelCall = (request: Omit<GenerateRequest, "timeoutMs">) => Promise<GenerateResult>;
