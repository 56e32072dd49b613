import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";
import { joinUrl, redactUrl } from "./url.js";
import { withoutDialect } from "./json-schema.js";
import type { GenerateRequest, GenerateResult, GenerationOptions, LanguageModel } from "./types.js";

export interface AnthropicSettings {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

interface AnthropicMessage {
  content?: Array<{ type: string; text?: string; name?: string; input?: unknown }>;
  stop_reason?: string | null;
  usage?: { input_tokens?: number; output_tokens?: number };
}

// The Messages API requires max_tokens; this is used when neither the run nor the model sets one.
const DEFAULT_MAX_TOKENS = 1024;

/**
 * Anthropic's Messages API. It has no log-probabilities and no JSON mode: a judge's JSON Schema goes as the
 * input schema of one tool the model must call, and the tool call's input is the answer (as JSON text).
 */
export function createAnthropic(settings: AnthropicSettings) {
  const url = joinUrl(settings.baseUrl, "/v1/messages");
  const headers: Record<string, string> = { "anthropic-version": "2023-06-01", ...settings.headers };
  if (settings.apiKey) headers["x-api-key"] = settings.apiKey;

  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => ({
    address,
    provider: settings.name,
    modelId,
    defaults,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const options = request.options;
      const system = request.messages
        .filter((m) => m.role === "system")
        .map((m) => m.content)
        .join("\n\n");
      const body: Record<string, unknown> = {
        model: modelId,
        max_tokens: options.max_tokens ?? DEFAULT_MAX_TOKENS,
        messages: request.messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: m.content })),
      };
      if (system) body.system = system;
      if (options.temperature !== undefined) body.temperature = options.temperature;
      if (options.top_p !== undefined) body.top_p = options.top_p;
      if (options.stop?.length) body.stop_sequences = options.stop;
      const format = request.responseFormat;
      const tool = format?.type === "json_schema" ? format.name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "answer" : undefined;
      if (format?.type === "json_schema" && tool) {
        body.tools = [{ name: tool, description: "Give your answer by calling this tool, with exactly the fields its schema describes.", input_schema: withoutDialect(format.schema) }];
        body.tool_choice = { type: "tool", name: tool };
      }
      const started = performance.now();
      const answer = (await postJson(url, body, { headers, timeoutMs: request.timeoutMs, signal: request.signal })) as AnthropicMessage;
      if (!Array.isArray(answer.content)) throw new ProviderError("bad_response", `${redactUrl(url)} answered without content`);
      const called = tool ? answer.content.find((part) => part.type === "tool_use" && part.name === tool) : undefined;
      return {
        text: called
          ? JSON.stringify(called.input ?? null)
          : answer.content
              .filter((part) => part.type === "text")
              .map((part) => part.text ?? "")
              .join(""),
        usage: { input_tokens: answer.usage?.input_tokens ?? 0, output_tokens: answer.usage?.output_tokens ?? 0 },
        latencyMs: performance.now() - started,
        finishReason: answer.stop_reason ?? "unknown",
      };
    },
  });
}
