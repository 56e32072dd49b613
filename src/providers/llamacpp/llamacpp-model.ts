import { availableParallelism } from "node:os";
import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../../errors.js";
import type { Message } from "../messages.js";
import { ProviderError } from "../errors.js";
import { logprobRow, logSoftmaxInPlace, topTokens } from "../dense-logprobs.js";
import type {
  GenerateRequest,
  GenerateResult,
  GenerationOptions,
  LanguageModel,
  LoglikelihoodRequest,
  LoglikelihoodResult,
  ScoringOptions,
  TokenDistribution,
  TokenizeResult,
  TokenLogprobs,
} from "../types.js";
import { vocabularyFingerprint } from "../vocabulary.js";
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
  /** How many sequences the context has: the most requests evaluated side by side. */
  sequences: number;
  take(): Promise<LlamaSequence>;
  give(sequence: LlamaSequence): void;
}

/** One shared load: the model objects that use it, and whether it has been freed. */
interface Shared<T> {
  value: Promise<T>;
  users: number;
  /** Freed, or failed to load: a model object holding it loads anew on its next call. */
  stale: boolean;
  free(): Promise<void>;
}

// Models load once per process and are shared by every model object that names them (and every run in it); a
// load is freed when the last of its users disposes, or by disposeLocalModels.
const loaded = new Map<string, Shared<LoadedModel | LlamaModel>>();

function share<T extends LoadedModel | LlamaModel>(key: string, load: () => Promise<T>, free: (value: T) => Promise<void>): Shared<T> {
  let entry = loaded.get(key) as Shared<T> | undefined;
  if (!entry || entry.stale) {
    const value = load();
    const created: Shared<T> = {
      value,
      users: 0,
      stale: false,
      free: async () => {
        created.stale = true;
        if (loaded.get(key) === created) loaded.delete(key);
        const ready = await value.catch(() => undefined);
        if (ready) await free(ready);
      },
    };
    value.catch(() => {
      created.stale = true;
      if (loaded.get(key) === created) loaded.delete(key);
    });
    loaded.set(key, created as Shared<LoadedModel | LlamaModel>);
    entry = created;
  }
  entry.users++;
  return entry;
}

/** Frees every local model of this process, in use or not; model objects that are called again load anew. */
export async function disposeLocalModels(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  for (const entry of all) await entry.free();
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
    sequences,
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

/** Positions × vocabulary entries read from llama.cpp in one evaluation: bounds the memory of dense log-probabilities. */
const DENSE_CHUNK_ENTRIES = 1 << 20;

function vocabularyOf(model: LlamaModel): { size: number; fingerprint: string } {
  let known = vocabularies.get(model);
  if (!known) {
    const tokenizer = model.fileInfo.metadata?.tokenizer?.ggml;
    if (!tokenizer?.tokens) throw new ProviderError("internal", "the GGUF file has no tokenizer.ggml.tokens: its vocabulary is unknown");
    known = { size: tokenizer.tokens.length, fingerprint: vocabularyFingerprint({ model: tokenizer.model, tokens: tokenizer.tokens, merges: tokenizer.merges }) };
    vocabularies.set(model, known);
  }
  return known;
}
const vocabularies = new WeakMap<LlamaModel, { size: number; fingerprint: string }>();

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError("cancelled", "scoring cancelled");
}

function commonPrefix(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}

function compareTokens(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  for (let index = 0; index < limit; index++) if (a[index] !== b[index]) return a[index]! - b[index]!;
  return a.length - b.length;
}

/**
 * Dense next-token log-probabilities of `tokens` on a fresh sequence: one row per token, evaluated in chunks
 * so that llama.cpp's per-position logit lists never hold more than DENSE_CHUNK_ENTRIES values at once.
 */
async function denseLogprobs(model: LlamaModel, sequence: LlamaSequence, tokens: readonly Token[], signal: AbortSignal | undefined): Promise<TokenLogprobs> {
  const vocabSize = vocabularyOf(model).size;
  const logprobs = new Float32Array(tokens.length * vocabSize);
  const chunk = Math.max(1, Math.floor(DENSE_CHUNK_ENTRIES / vocabSize));
  for (let start = 0; start < tokens.length; start += chunk) {
    cancelled(signal);
    const end = Math.min(tokens.length, start + chunk);
    const input = tokens.slice(start, end).map((token): [Token, { generateNext: Record<string, unknown> }] => [token, { generateNext: { logits: true } }]);
    const outputs = await sequence.controlledEvaluate(input);
    for (let position = start; position < end; position++) {
      const logits = outputs[position - start]?.next.logits;
      if (!logits) throw new ProviderError("internal", "llama.cpp returned no logits for a scored position");
      const row = logprobs.subarray(position * vocabSize, (position + 1) * vocabSize);
      row.fill(-Infinity);
      for (const [token, logit] of logits) {
        if (token >= vocabSize) throw new ProviderError("internal", `llama.cpp returned a logit for token ${token}, beyond the vocabulary of ${vocabSize}`);
        row[token] = logit;
      }
      logSoftmaxInPlace(row);
    }
  }
  return { tokens: Uint32Array.from(tokens), logprobs, vocabSize };
}

/** Local GGUF models in-process through llama.cpp (node-llama-cpp). */
export function createLlamaCpp(settings: LlamaCppSettings) {
  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => {
    const key = JSON.stringify([modelId, settings.contextSize, settings.threads, settings.gpu, settings.gpuLayers, settings.sequences]);
    const vocabularyKey = JSON.stringify(["vocabulary", modelId, settings.gpu, settings.cacheDir]);
    let held: Shared<LoadedModel> | undefined;
    let heldVocabulary: Shared<LlamaModel> | undefined;
    let disposed = false;
    const inFlight = new Set<Promise<unknown>>();

    /** Runs one call of this model object, refused once it is disposed; dispose waits for the calls under way. */
    const call = <T>(job: () => Promise<T>): Promise<T> => {
      if (disposed) return Promise.reject(new ProviderError("client_error", `${address}: this model has been disposed; resolve it again to use it`));
      const running = job();
      const settled = running.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      return running;
    };
    const model = (): Promise<LoadedModel> => {
      if (!held || held.stale) held = share(key, () => load(modelId, settings), async (value) => {
        await value.context.dispose();
        await value.model.dispose();
      });
      return held.value;
    };
    /** For tokenizing: the loaded model when this object holds one, else the vocabulary alone (no weights). */
    const tokenizer = async (): Promise<LlamaModel> => {
      if (held && !held.stale) return (await held.value).model;
      if (!heldVocabulary || heldVocabulary.stale) {
        heldVocabulary = share(vocabularyKey, async () => {
          const path = await modelFile(modelId, settings);
          const runtime = await llamaRuntime(settings.gpu ?? "auto");
          try {
            return await runtime.loadModel({ modelPath: path, vocabOnly: true });
          } catch (error) {
            throw new UserError(`${path}: llama.cpp cannot read this model's vocabulary (${(error as Error).message}); the file may be corrupt or truncated`);
          }
        }, (value) => value.dispose());
      }
      return heldVocabulary.value;
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
    const fits = (loadedModel: LoadedModel, length: number): void => {
      if (length > loadedModel.context.contextSize) {
        throw new ProviderError("client_error", `${address}: a text of ${length} tokens does not fit the context of ${loadedModel.context.contextSize} (raise context_size)`);
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
      if (contextTokens.length >= whole.length) throw new ProviderError("client_error", `${address}: the continuation adds no tokens to the context`);
      return { whole, from: contextTokens.length };
    };

    /**
     * Scores requests on one sequence in the order given, keeping the state of the tokens a request shares
     * with the one before (its context, when they share one) instead of evaluating them again.
     */
    const scoreOnSequence = async (
      llamaModel: LlamaModel,
      sequence: LlamaSequence,
      items: Array<{ index: number; whole: Token[]; from: number }>,
      results: LoglikelihoodResult[],
      signal: AbortSignal | undefined,
    ): Promise<void> => {
      for (const { index, whole, from } of items) {
        cancelled(signal);
        // Logits are needed from the context's last token on, so at most the tokens before it are kept.
        const keep = Math.min(commonPrefix(sequence.contextTokens, whole), from - 1);
        if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
        // Only the positions whose next token is the continuation's need logits: that token's and the top one
        // (the normaliser, totalLogitWeight, is relative to the top logit). `includeMax` does not add the top
        // token in node-llama-cpp 3.22; `includeTop: 1` does. The last token predicts nothing scored, so it is
        // not evaluated.
        const input = whole.slice(keep, -1).map((token, offset): Token | [Token, { generateNext: Record<string, unknown> }] => {
          const position = keep + offset;
          return position >= from - 1 ? [token, { generateNext: { logits: { filter: { tokens: [whole[position + 1]!], includeTop: 1 } }, totalLogitWeight: true } }] : token;
        });
        const outputs = await sequence.controlledEvaluate(input);
        const tokens: LoglikelihoodResult["tokens"] = [];
        let logprob = 0;
        let isGreedy = true;
        for (let position = from; position < whole.length; position++) {
          const scored = logprobFrom(outputs[position - 1 - keep]?.next, whole[position]!);
          logprob += scored.logprob;
          isGreedy &&= scored.isTop;
          tokens.push({ token: llamaModel.detokenize([whole[position]!]), logprob: scored.logprob });
        }
        results[index] = { logprob, isGreedy, tokens };
      }
    };

    const self: LanguageModel = {
      address,
      provider: settings.name,
      modelId,
      defaults,
      prepare(): Promise<void> {
        return call(async () => {
          await loadLibrary();
          await model();
        });
      },
      generate(request: GenerateRequest): Promise<GenerateResult> {
        return call(async () => {
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
        });
      },
      async loglikelihood(context: string, continuation: string, options?: ScoringOptions): Promise<LoglikelihoodResult> {
        return (await self.loglikelihoods!([{ context, continuation }], options))[0]!;
      },
      loglikelihoods(requests: readonly LoglikelihoodRequest[], options: ScoringOptions = {}): Promise<LoglikelihoodResult[]> {
        return call(async () => {
          if (requests.length === 0) return [];
          const loadedModel = await model();
          const llamaModel = loadedModel.model;
          // Requests with one context are scored one after another on one sequence, so the context is evaluated
          // once; contexts are spread over the context's parallel sequences, which llama.cpp decodes in shared batches.
          const groups = new Map<string, Array<{ index: number; whole: Token[]; from: number }>>();
          requests.forEach(({ context, continuation }, index) => {
            const scored = scoredTokens(llamaModel, context, continuation);
            fits(loadedModel, scored.whole.length);
            const group = groups.get(context) ?? [];
            group.push({ index, ...scored });
            groups.set(context, group);
          });
          const queue = [...groups.values()].map((group) => group.sort((a, b) => compareTokens(a.whole, b.whole)));
          queue.sort((a, b) => compareTokens(a[0]!.whole, b[0]!.whole));
          const results: LoglikelihoodResult[] = new Array(requests.length);
          const workers = Math.min(loadedModel.sequences, queue.length);
          let next = 0;
          await Promise.all(
            Array.from({ length: workers }, () =>
              withSequence(async (_loadedModel, sequence) => {
                while (next < queue.length) await scoreOnSequence(llamaModel, sequence, queue[next++]!, results, options.signal);
              }),
            ),
          );
          return results;
        });
      },
      tokenLogprobs(texts: readonly string[], options: ScoringOptions = {}): Promise<TokenLogprobs[]> {
        return call(async () => {
          const loadedModel = await model();
          const all = texts.map((text) => {
            const tokens = tokensOf(loadedModel.model, text);
            fits(loadedModel, tokens.length);
            return tokens;
          });
          // One sequence per text, as many at once as the context has: llama.cpp decodes them in shared batches.
          return Promise.all(all.map((tokens) => withSequence((current, sequence) => denseLogprobs(current.model, sequence, tokens, options.signal))));
        });
      },
      async tokenDistributions(text: string, options: { topK?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TokenDistribution[]> {
        const topK = options.topK ?? 20;
        const scoring: ScoringOptions = {};
        if (options.signal) scoring.signal = options.signal;
        const [dense] = await self.tokenLogprobs!([text], scoring);
        const { tokens, vocabSize } = dense!;
        const llamaModel = await call(() => model().then((value) => value.model));
        const distributions: TokenDistribution[] = [];
        for (let position = 0; position + 1 < tokens.length; position++) {
          const row = logprobRow(dense!, position);
          const next = tokens[position + 1]!;
          const top = topTokens(row, Math.min(topK, vocabSize)).map((candidate) => ({ token: llamaModel.detokenize([candidate]), logprob: row[candidate]! }));
          distributions.push({ token: llamaModel.detokenize([next]), logprob: row[next]!, top });
        }
        return distributions;
      },
      tokenize(text: string): Promise<TokenizeResult> {
        return call(async () => {
          const llamaModel = await tokenizer();
          return { ids: Uint32Array.from(llamaModel.tokenize(text)), fingerprint: vocabularyOf(llamaModel).fingerprint };
        });
      },
      async dispose(): Promise<void> {
        if (disposed) return;
        disposed = true;
        await Promise.all(inFlight);
        for (const entry of [held, heldVocabulary]) {
          if (!entry || entry.stale) continue;
          entry.users--;
          if (entry.users <= 0) await entry.free();
        }
        held = undefined;
        heldVocabulary = undefined;
      },
    };
    return self;
  };
}
