import { ProviderError } from "../errors.js";
import type { Message } from "../messages.js";
import type { CompletionRequest, GenerateRequest, GenerateResult, GenerationOptions } from "../types.js";
import type { ChatHistoryItem, LlamaChatInstance, LlamaCompletionInstance, LlamaGrammar, LlamaModel, LlamaSequence, Token } from "./library.js";
import { grammarSchema } from "./json-grammar.js";

/** A chat as node-llama-cpp's chat history. */
export function history(messages: readonly Message[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => (message.role === "assistant" ? { type: "model", response: [message.content] } : { type: message.role, text: message.content }));
}

const STOP_REASONS: Record<string, string> = { eogToken: "stop", customStopTrigger: "stop", stopGenerationTrigger: "stop", maxTokens: "length", abort: "cancelled" };

/**
 * Runs one generation on a sequence, counting the tokens it used. The run's request timeout stops the
 * llama.cpp generation itself (as an HTTP timeout ends a request): without it a model that never emits an
 * end token would hold its sequence, and the run, for ever.
 */
async function generateCounted(
  sequence: LlamaSequence,
  request: { timeoutMs: number; signal?: AbortSignal | undefined },
  generate: (signal: AbortSignal) => Promise<{ response: string; metadata: { stopReason: string } }>,
): Promise<GenerateResult> {
  const before = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const started = performance.now();
  try {
    const answer = await generate(signal);
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
  }
}

/** Grammars built once per runtime and schema (building one compiles the schema to GBNF). */
const grammars = new WeakMap<object, Map<string, Promise<LlamaGrammar | undefined>>>();

/**
 * The grammar a request's response format asks for: its JSON Schema in the grammar subset (json-grammar.ts),
 * any JSON for json_object; none when there is no format or the schema has features the subset cannot keep.
 */
export function grammarFor(model: Pick<LlamaModel, "llama">, request: Pick<GenerateRequest, "responseFormat">): Promise<LlamaGrammar | undefined> {
  const format = request.responseFormat;
  if (!format) return Promise.resolve(undefined);
  const schema = format.type === "json_schema" ? grammarSchema(format.schema) : undefined;
  const key = format.type === "json_object" ? "json" : JSON.stringify(schema ?? null);
  let cache = grammars.get(model.llama);
  if (!cache) grammars.set(model.llama, (cache = new Map()));
  let grammar = cache.get(key);
  if (!grammar) {
    const built = format.type === "json_object" ? model.llama.getGrammarFor("json") : schema ? model.llama.createGrammarForJsonSchema(schema) : Promise.resolve(undefined);
    // A grammar llama.cpp refuses leaves generation unconstrained, as before (the answer is still validated).
    grammar = built.catch(() => undefined);
    cache.set(key, grammar);
  }
  return grammar;
}

/** Generates one chat response on a sequence (the model's chat template from its GGUF metadata), under the response format's grammar when `model` is given. */
export async function generateOnSequence(
  LlamaChat: new (options: { contextSequence: LlamaSequence }) => LlamaChatInstance,
  sequence: LlamaSequence,
  request: GenerateRequest,
  model?: Pick<LlamaModel, "llama">,
): Promise<GenerateResult> {
  const grammar = model ? await grammarFor(model, request) : undefined;
  const chat = new LlamaChat({ contextSequence: sequence });
  const options: Parameters<typeof chat.generateResponse>[1] = { temperature: request.options.temperature ?? 0 };
  if (grammar) options.grammar = grammar;
  if (request.options.max_tokens !== undefined) options.maxTokens = request.options.max_tokens;
  if (request.options.top_p !== undefined) options.topP = request.options.top_p;
  if (request.options.seed !== undefined) options.seed = request.options.seed;
  if (request.options.stop?.length) options.customStopTriggers = request.options.stop;
  try {
    return await generateCounted(sequence, request, (signal) => chat.generateResponse(history(request.messages), { ...options, signal }));
  } finally {
    chat.dispose({ disposeSequence: false });
  }
}

/**
 * The sampler of a plain completion: exactly what the request says and nothing else, as a Hugging Face
 * `generate(do_sample=True, top_k=0, top_p=…)` samples (RealToxicityPrompts' generation code). node-llama-cpp's
 * own defaults (top-k 40, top-p 0.95, a repeat penalty over the last 64 tokens) would each change the
 * distribution sampled from, so they are switched off: top-k 0 is the whole vocabulary, top-p 1 when none is given.
 */
export function completionSampler(options: GenerationOptions): Parameters<LlamaCompletionInstance["generateCompletionWithMeta"]>[1] {
  const sampler: Parameters<LlamaCompletionInstance["generateCompletionWithMeta"]>[1] = {
    temperature: options.temperature ?? 0,
    topK: 0,
    topP: options.top_p ?? 1,
    minP: 0,
    repeatPenalty: false,
  };
  if (options.max_tokens !== undefined) sampler.maxTokens = options.max_tokens;
  if (options.seed !== undefined) sampler.seed = options.seed;
  if (options.stop?.length) sampler.customStopTriggers = options.stop;
  return sampler;
}

/**
 * Continues a text on a sequence with no chat template: the model's beginning-of-sequence token (where its
 * vocabulary has one, as llama.cpp's own completion adds it), then the prompt's tokens, then sampling.
 */
export async function completeOnSequence(
  LlamaCompletion: new (options: { contextSequence: LlamaSequence }) => LlamaCompletionInstance,
  model: LlamaModel,
  sequence: LlamaSequence,
  request: CompletionRequest,
): Promise<GenerateResult> {
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const generated: Token[] = [];
  try {
    const result = await generateCounted(sequence, request, (signal) =>
      completion.generateCompletionWithMeta(request.prompt, { ...completionSampler(request.options), signal, onToken: (tokens) => generated.push(...tokens) }),
    );
    return { ...result, text: leadingSpace(model, request.prompt, generated) + result.text };
  } finally {
    completion.dispose({ disposeSequence: false });
  }
}

/**
 * node-llama-cpp 3.21.1 detokenizes a completion on its own, so a SentencePiece model's first token loses its
 * word-joining space ("She" + "loved" for " loved"). Detokenized after the prompt's tokens, it keeps it: that
 * space is put back, so prompt + response is the text the model actually produced.
 */
function leadingSpace(model: LlamaModel, prompt: string, generated: readonly Token[]): string {
  if (generated.length === 0 || prompt === "") return "";
  const alone = model.detokenize(generated);
  const afterPrompt = model.detokenize(generated, false, model.tokenize(prompt).slice(-8));
  if (afterPrompt.length <= alone.length || !afterPrompt.endsWith(alone)) return "";
  const lead = afterPrompt.slice(0, afterPrompt.length - alone.length);
  return /^\s+$/.test(lead) ? lead : "";
}
