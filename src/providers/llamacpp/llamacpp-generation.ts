import { ProviderError } from "../errors.js";
import type { Message } from "../messages.js";
import type { GenerateRequest, GenerateResult } from "../types.js";
import type { ChatHistoryItem, LlamaChatInstance, LlamaSequence } from "./library.js";

function history(messages: Message[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => (message.role === "assistant" ? { type: "model", response: [message.content] } : { type: message.role, text: message.content }));
}

const STOP_REASONS: Record<string, string> = { eogToken: "stop", customStopTrigger: "stop", stopGenerationTrigger: "stop", maxTokens: "length", abort: "cancelled" };

/**
 * Generates one chat response on a sequence, counting the tokens it used. The run's request timeout stops
 * the llama.cpp generation itself (as an HTTP timeout ends a request): without it a model that never emits
 * an end token would hold its sequence, and the run, for ever.
 */
export async function generateOnSequence(
  LlamaChat: new (options: { contextSequence: LlamaSequence }) => LlamaChatInstance,
  sequence: LlamaSequence,
  request: GenerateRequest,
): Promise<GenerateResult> {
  const before = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
  const chat = new LlamaChat({ contextSequence: sequence });
  const options: Parameters<typeof chat.generateResponse>[1] = { temperature: request.options.temperature ?? 0 };
  if (request.options.max_tokens !== undefined) options.maxTokens = request.options.max_tokens;
  if (request.options.top_p !== undefined) options.topP = request.options.top_p;
  if (request.options.seed !== undefined) options.seed = request.options.seed;
  if (request.options.stop?.length) options.customStopTriggers = request.options.stop;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  options.signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const started = performance.now();
  try {
    const answer = await chat.generateResponse(history(request.messages), options);
    return {
      text: answer.response,
      usage: { input_tokens: sequence.tokenMeter.usedInputTokens - before.input, output_tokens: sequence.tokenMeter.usedOutputTokens - before.output },
      latencyMs: performance.now() - started,
      finishReason: STOP_REASONS[answer.metadata.stopReason] ?? answer.metadata.stopReason,
    };
  } catch (error) {
    if (request.signal?.aborted) throw new ProviderError("cancelled", "generation cancelled");
    if (timeout.aborted) throw new ProviderError("timeout", `no answer within ${request.timeoutMs} ms (the local generation was stopped)`);
    throw new ProviderError("internal", `llama.cpp generation failed: ${(error as Error).message}`);
  } finally {
    chat.dispose({ disposeSequence: false });
  }
}
