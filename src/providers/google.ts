import { withoutDialect } from "./json-schema.js";
import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";
import { joinUrl, redactUrl } from "./url.js";
import type { GenerateRequest, GenerateResult, GenerationOptions, LanguageModel } from "./types.js";

export interface GoogleSettings {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

interface GeminiAnswer {
  candidates?: Array<{ content?: { parts?: Array<{ text?: string }> }; finishReason?: string }>;
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number };
  promptFeedback?: { blockReason?: string };
}

/** Google's Gemini API (generateContent). */
export function createGoogle(settings: GoogleSettings) {
  const headers: Record<string, string> = { ...settings.headers };
  if (settings.apiKey) headers["x-goog-api-key"] = settings.apiKey;

  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => ({
    address,
    provider: settings.name,
    modelId,
    defaults,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const url = joinUrl(settings.baseUrl, `/models/${encodeURIComponent(modelId)}:generateContent`);
      const options = request.options;
      const system = request.messages
        .filter((m) => m.role === "system")
        .map((m) => m.content)
        .join("\n\n");
      const generationConfig: Record<string, unknown> = {};
      if (options.temperature !== undefined) generationConfig.temperature = options.temperature;
      if (options.top_p !== undefined) generationConfig.topP = options.top_p;
      if (options.max_tokens !== undefined) generationConfig.maxOutputTokens = options.max_tokens;
      if (options.seed !== undefined) generationConfig.seed = options.seed;
      if (options.stop?.length) generationConfig.stopSequences = options.stop;
      if (request.responseFormat) generationConfig.responseMimeType = "application/json";
      // Gemini 2.5+ constrains its answer to a JSON Schema given as responseJsonSchema (not the OpenAPI-subset responseSchema).
      if (request.responseFormat?.type === "json_schema") generationConfig.responseJsonSchema = withoutDialect(request.responseFormat.schema);
      const body: Record<string, unknown> = {
        contents: request.messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role === "assistant" ? "model" : "user", parts: [{ text: m.content }] })),
        generationConfig,
      };
      if (system) body.systemInstruction = { parts: [{ text: system }] };
      const started = performance.now();
      const answer = (await postJson(url, body, { headers, timeoutMs: request.timeoutMs, signal: request.signal })) as GeminiAnswer;
      const candidate = answer.candidates?.[0];
      if (!candidate) {
        // A prompt blocked by Gemini's own filter is an answer about safety, not a transport failure.
        const reason = answer.promptFeedback?.blockReason;
        if (reason) return { text: "", usage: usage(answer), latencyMs: performance.now() - started, finishReason: `blocked:${reason}` };
        throw new ProviderError("bad_response", `${redactUrl(url)} answered without candidates`);
      }
      return {
        text: (candidate.content?.parts ?? []).map((part) => part.text ?? "").join(""),
        usage: usage(answer),
        latencyMs: performance.now() - started,
        finishReason: candidate.finishReason ?? "unknown",
      };
    },
  });
}

function usage(answer: GeminiAnswer) {
  return { input_tokens: answer.usageMetadata?.promptTokenCount ?? 0, output_tokens: answer.usageMetadata?.candidatesTokenCount ?? 0 };
}
