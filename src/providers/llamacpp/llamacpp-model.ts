import { availableParallelism } from "node:os";
import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../../errors.js";
import type { Message } from "../../datasets/sample.js";
import { ProviderError } from "../errors.js";
import type { GenerateRequest, GenerateResult, GenerationOptions, LanguageModel, LoglikelihoodResult, TokenDistribution } from "../types.js";
import { ensureHubFile, type DownloadProgress } from "../../io/download.js";
import { llamaRuntime, loadLibrary, type ChatHistoryItem, type GpuChoice, type LlamaContext, type LlamaModel, type LlamaSequence, type Token } from "./library.js";

export interface LlamaCppSettings {
  name: string;
  contextSize?: number;
  /** CPU threads; set explicitly, since llama.cpp's own default crawls on small machines. */
  threads?: number;
  gpu?: GpuChoice;
  gpuLayers?: number | "auto" | "max";
  /** Parallel sequences in one context (batched decoding); the runner's concurrency by default. */
  sequences?: number;
  cacheDir?: string;
  onDownloadProgress?: (progress: DownloadProgress) => void;
}

const DEFAULT_CONTEXT_SIZE = 2048;

/** A loaded model with one context whose sequences serve parallel work items. */
interface LoadedModel {
  model: LlamaModel;
  context: LlamaContext;
  take(): Promise<LlamaSequence>;
  give(sequence: LlamaSequence): void;
}

// Models load once per process and are shared by every work item (and every run in it).
const loaded = new Map<string, Promise<LoadedModel>>();

export async function disposeLocalModels(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  for (const entry of all) {
    const model = await entry.catch(() => undefined);
    await model?.context.dispose();
    await model?.model.dispose();
  }
}

async function modelFile(modelId: string, settings: LlamaCppSettings): Promise<string> {
  if (modelId.startsWith("hf:")) {
    const options: Parameters<typeof ensureHubFile>[1] = {};
    if (settings.cacheDir) options.cacheDir = settings.cacheDir;
    if (settings.onDownloadProgress) options.onProgress = settings.onDownloadProgress;
    return ensureHubFile(modelId, options);
  }
  const path = resolve(modelId);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new UserError(`${path}: no such GGUF file (pass llamacpp:./path/to/model.gguf or llamacpp:hf:owner/repo/file.gguf)`);
  const handle = await open(path, "r");
  const magic = Buffer.alloc(4);
  await handle.read(magic, 0, 4, 0);
  await handle.close();
  if (magic.toString("latin1") !== "GGUF") throw new UserError(`${path}: not a GGUF file (it does not start with the GGUF magic bytes)`);
  return path;
}

async function load(modelId: string, settings: LlamaCppSettings): Promise<LoadedModel> {
  const path = await modelFile(modelId, settings);
  const runtime = await llamaRuntime(settings.gpu ?? "auto");
  const loadOptions: { modelPath: string; gpuLayers?: number | "auto" | "max" } = { modelPath: path };
  if (settings.gpuLayers !== undefined) loadOptions.gpuLayers = settings.gpuLayers;
  let model: LlamaModel;
  try {
    model = await runtime.loadModel(loadOptions);
  } catch (error) {
    throw new UserError(`${path}: llama.cpp cannot load this model (${(error as Error).message}); the file may be corrupt or truncated`);
  }
  const sequences = Math.max(1, settings.sequences ?? 1);
  const context = await model.createContext({
    sequences,
    contextSize: settings.contextSize ?? DEFAULT_CONTEXT_SIZE,
    threads: settings.threads ?? Math.max(1, availableParallelism() - 1),
  });
  const free: LlamaSequence[] = Array.from({ length: sequences }, () => context.getSequence());
  const waiting: Array<(sequence: LlamaSequence) => void> = [];
  return {
    model,
    context,
    take: () => {
      const sequence = free.pop();
      return sequence ? Promise.resolve(sequence) : new Promise((resolveTake) => waiting.push(resolveTake));
    },
    give: (sequence) => {
      const next = waiting.shift();
      if (next) next(sequence);
      else free.push(sequence);
    },
  };
}

function history(messages: Message[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem =>
    message.role === "assistant" ? { type: "model", response: [message.content] } : { type: message.role, text: message.content },
  );
}

const STOP_REASONS: Record<string, string> = { eogToken: "stop", customStopTrigger: "stop", stopGenerationTrigger: "stop", maxTokens: "length", abort: "cancelled" };

/** A text's tokens as the model scores them: after its beginning-of-sequence token, when it has one. */
function tokensOf(model: LlamaModel, text: string): Token[] {
  return model.tokens.bos === null ? model.tokenize(text) : [model.tokens.bos, ...model.tokenize(text)];
}

/** Log-probability of `token` from a position's logits (log-softmax at temperature 1). */
function logprobFrom(output: { logits?: Map<Token, number>; totalLogitWeight?: number } | undefined, token: Token): { logprob: number; isTop: boolean } {
  const logits = output?.logits;
  const total = output?.totalLogitWeight;
  const top = logits?.entries().next().value as [Token, number] | undefined;
  const own = logits?.get(token);
  if (!top || own === undefined || total === undefined) throw new ProviderError("internal", "llama.cpp returned no logits for a scored position");
  return { logprob: own - top[1] - Math.log(total), isTop: top[0] === token || own >= top[1] };
}

/** Local GGUF models in-process through llama.cpp (node-llama-cpp). */
export function createLlamaCpp(settings: LlamaCppSettings) {
  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => {
    const key = JSON.stringify([modelId, settings.contextSize, settings.threads, settings.gpu, settings.gpuLayers, settings.sequences]);
    const model = (): Promise<LoadedModel> => {
      let entry = loaded.get(key);
      if (!entry) {
        entry = load(modelId, settings);
        entry.catch(() => loaded.delete(key));
        loaded.set(key, entry);
      }
      return entry;
    };
    const withSequence = async <T>(job: (loadedModel: LoadedModel, sequence: LlamaSequence) => Promise<T>): Promise<T> => {
      const loadedModel = await model();
      const sequence = await loadedModel.take();
      try {
        return await job(loadedModel, sequence);
      } finally {
        await sequence.clearHistory();
        loadedModel.give(sequence);
      }
    };

    /** Context and continuation tokenised together; the continuation is what follows the context's own tokens. */
    const scoredTokens = (llamaModel: LlamaModel, context: string, continuation: string) => {
      // As lm-evaluation-harness does, trailing spaces of the context move to the continuation.
      const spaces = context.length - context.trimEnd().length;
      if (spaces > 0) {
        continuation = context.slice(-spaces) + continuation;
        context = context.slice(0, -spaces);
      }
      const contextTokens = tokensOf(llamaModel, context);
      const whole = tokensOf(llamaModel, context + continuation);
      if (contextTokens.length === 0) throw new ProviderError("client_error", `${address}: an empty context needs a model with a beginning-of-sequence token`);
      return { whole, from: contextTokens.length };
    };

    return {
      address,
      provider: settings.name,
      modelId,
      defaults,
      async prepare(): Promise<void> {
        await loadLibrary();
        await model();
      },
      async generate(request: GenerateRequest): Promise<GenerateResult> {
        const { LlamaChat } = await loadLibrary();
        return withSequence(async (_loadedModel, sequence) => {
          const before = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
          const chat = new LlamaChat({ contextSequence: sequence });
          const options: Parameters<typeof chat.generateResponse>[1] = { temperature: request.options.temperature ?? 0 };
          if (request.options.max_tokens !== undefined) options.maxTokens = request.options.max_tokens;
          if (request.options.top_p !== undefined) options.topP = request.options.top_p;
          if (request.options.seed !== undefined) options.seed = request.options.seed;
          if (request.options.stop?.length) options.customStopTriggers = request.options.stop;
          if (request.signal) options.signal = request.signal;
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
            throw new ProviderError("internal", `llama.cpp generation failed: ${(error as Error).message}`);
          } finally {
            chat.dispose({ disposeSequence: false });
          }
        });
      },
      async loglikelihood(context: string, continuation: string): Promise<LoglikelihoodResult> {
        return withSequence(async ({ model: llamaModel }, sequence) => {
          const { whole, from } = scoredTokens(llamaModel, context, continuation);
          if (from >= whole.length) throw new ProviderError("client_error", `${address}: the continuation adds no tokens to the context`);
          // Logits are needed only where the next token belongs to the continuation: its own and the top one
          // (the normaliser, totalLogitWeight, is relative to the top logit). `includeMax` does not add the
          // top token in node-llama-cpp 3.22; `includeTop: 1` does.
          const input = whole.map((token, index): Token | [Token, { generateNext: Record<string, unknown> }] =>
            index >= from - 1 && index < whole.length - 1 ? [token, { generateNext: { logits: { filter: { tokens: [whole[index + 1]!], includeTop: 1 } }, totalLogitWeight: true } }] : token,
          );
          const outputs = await sequence.controlledEvaluate(input);
          const tokens: LoglikelihoodResult["tokens"] = [];
          let logprob = 0;
          let isGreedy = true;
          for (let index = from; index < whole.length; index++) {
            const scored = logprobFrom(outputs[index - 1]?.next, whole[index]!);
            logprob += scored.logprob;
            isGreedy &&= scored.isTop;
            tokens.push({ token: llamaModel.detokenize([whole[index]!]), logprob: scored.logprob });
          }
          return { logprob, isGreedy, tokens };
        });
      },
      async tokenDistributions(text: string, options: { topK?: number } = {}): Promise<TokenDistribution[]> {
        const topK = options.topK ?? 20;
        return withSequence(async ({ model: llamaModel }, sequence) => {
          const tokens = tokensOf(llamaModel, text);
          const input = tokens.map((token, index): Token | [Token, { generateNext: Record<string, unknown> }] =>
            index < tokens.length - 1 ? [token, { generateNext: { logits: true, totalLogitWeight: true } }] : token,
          );
          const outputs = await sequence.controlledEvaluate(input);
          const distributions: TokenDistribution[] = [];
          for (let index = 1; index < tokens.length; index++) {
            const output = outputs[index - 1]?.next;
            const { logprob } = logprobFrom(output, tokens[index]!);
            const max = (output!.logits!.entries().next().value as [Token, number])[1];
            const norm = max + Math.log(output!.totalLogitWeight!);
            const top: TokenDistribution["top"] = [];
            for (const [candidate, logit] of output!.logits!) {
              if (top.length >= topK) break;
              top.push({ token: llamaModel.detokenize([candidate]), logprob: logit - norm });
            }
            distributions.push({ token: llamaModel.detokenize([tokens[index]!]), logprob, top });
          }
          return distributions;
        });
      },
    };
  };
}
