import type { Message } from "./messages.js";
import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";
import { joinUrl, redactUrl } from "./url.js";
import { EchoScorer, postCompletion } from "./openai-completions.js";
import { postEmbeddings } from "./openai-embeddings.js";
import type { GenerateRequest, GenerateResult, LanguageModel, GenerationOptions, TokenLogprob } from "./types.js";

export interface OpenAICompatibleSettings {
  /** The provider's name in model addresses (`openai`, or a user-defined one such as `vllm`). */
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

interface ChatCompletion {
  choices?: Array<{
    message?: { content?: string | null; refusal?: string | null };
    finish_reason?: string | null;
    logprobs?: { content?: Array<{ token: string; logprob: number; top_logprobs?: Array<{ token: string; logprob: number }> }> | null } | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** Any server speaking OpenAI's chat-completions API: OpenAI, vLLM, Ollama, llama.cpp server, LM Studio, OpenRouter, Together… */
export function createOpenAICompatible(settings: OpenAICompatibleSettings) {
  const url = joinUrl(settings.baseUrl, "/chat/completions");
  // OpenAI's own API wants max_completion_tokens for its newer models; other servers know max_tokens.
  const isOpenAIItself = /^https:\/\/api\.openai\.com\b/.test(settings.baseUrl);
  const headers: Record<string, string> = { ...settings.headers };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;

  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => {
    const scorer = new EchoScorer(settings.baseUrl, modelId, headers);
    return {
      address,
      provider: settings.name,
      modelId,
      defaults,
      loglikelihood: (context, continuation, options) => scorer.loglikelihood(context, continuation, options),
      loglikelihoods: (requests, options) => scorer.loglikelihoods(requests, options),
      tokenDistributions: (text, options) => scorer.tokenDistributions(text, options),
      complete: (request) => postCompletion(settings.baseUrl, modelId, headers, request),
      embed: (texts, options) => postEmbeddings(settings.baseUrl, modelId, headers, texts, options),
      async generate(request: GenerateRequest): Promise<GenerateResult> {
        const options = request.options;
        const body: Record<string, unknown> = { model: modelId, messages: request.messages.map(toOpenAIMessage) };
        if (options.temperature !== undefined) body.temperature = options.temperature;
        if (options.top_p !== undefined) body.top_p = options.top_p;
        if (options.seed !== undefined) body.seed = options.seed;
        if (options.stop?.length) body.stop = options.stop;
        if (options.max_tokens !== undefined) body[isOpenAIItself ? "max_completion_tokens" : "max_tokens"] = options.max_tokens;
        if (request.responseFormat?.type === "json_schema") {
          body.response_format = {
            type: "json_schema",
            json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema, strict: false },
          };
        } else if (request.responseFormat?.type === "json_object") {
          body.response_format = { type: "json_object" };
        }
        if (request.topLogprobs !== undefined) {
          body.logprobs = true;
          body.top_logprobs = request.topLogprobs;
        }
        const started = performance.now();
        const answer = (await postJson(url, body, { headers, timeoutMs: request.timeoutMs, signal: request.signal })) as ChatCompletion;
        const latencyMs = performance.now() - started;
        const choice = answer.choices?.[0];
        if (!choice?.message) throw new ProviderError("bad_response", `${redactUrl(url)} answered without choices[0].message`);
        const result: GenerateResult = {
          text: choice.message.content ?? choice.message.refusal ?? "",
          usage: { input_tokens: answer.usage?.prompt_tokens ?? 0, output_tokens: answer.usage?.completion_tokens ?? 0 },
          latencyMs,
          finishReason: choice.finish_reason ?? "unknown",
        };
        const tokens = choice.logprobs?.content;
        if (tokens) result.logprobs = tokens.map((t): TokenLogprob => ({ token: t.token, logprob: t.logprob, top: t.top_logprobs }));
        return result;
      },
    };
  };
}

function toOpenAIMessage(message: Message) {
  return { role: message.role, content: message.content };
}
