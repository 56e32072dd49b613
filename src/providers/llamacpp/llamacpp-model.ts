import { ProviderError } from "../errors.js";
import { logprobRow, topTokens } from "../dense-logprobs.js";
import type {
  CompletionRequest,
  EmbedOptions,
  TokenDecoder,
  FidelityStatistics,
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
import { loadLibrary, type LlamaModel, type LlamaSequence, type Token } from "./library.js";
import { openLlamaDecoder } from "./llamacpp-decoder.js";
import { LlamaEmbedder } from "./llamacpp-embedding.js";
import { completeOnSequence, generateOnSequence } from "./llamacpp-generation.js";
import { load, loadVocabulary, share, type LlamaCppSettings, type LoadedModel, type Shared } from "./llamacpp-loading.js";
import { describeLoaded } from "./llamacpp-pins.js";
import { nativeLoad, nativeTwinOf, registerNativeTwin } from "./llamacpp-native-twin.js";
import { denseLogitsAddon, nativeStatistics, type NativeModel } from "./native-fidelity.js";
import { compareTokens, denseLogprobs, scoredTokens, scoreOnSequence, tokensOf, vocabularyOf } from "./llamacpp-scoring.js";

/** Local GGUF models in-process through llama.cpp (node-llama-cpp). */
export function createLlamaCpp(settings: LlamaCppSettings) {
  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => {
    const key = JSON.stringify([modelId, settings.contextSize, settings.threads, settings.gpu, settings.gpuLayers, settings.sequences]);
    const vocabularyKey = JSON.stringify(["vocabulary", modelId, settings.gpu, settings.cacheDir]);
    let held: Shared<LoadedModel> | undefined;
    let heldVocabulary: Shared<LlamaModel> | undefined;
    let heldNative: Shared<NativeModel> | undefined;
    let disposed = false;
    const inFlight = new Set<Promise<unknown>>();
    const embedder = new LlamaEmbedder(address, settings.threads);

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
    // The signal stops a download the load starts (prepare's, before the run begins); the load itself runs on.
    const model = (signal?: AbortSignal): Promise<LoadedModel> => {
      if (!held || held.stale)
        held = share(
          key,
          () => load(modelId, settings, signal),
          async (value) => {
            await value.context.dispose();
            await value.model.dispose();
          },
        );
      return held.value;
    };
    /** For tokenizing: the loaded model when this object holds one, else the vocabulary alone (no weights). */
    const tokenizer = async (): Promise<LlamaModel> => {
      if (held && !held.stale) return (await held.value).model;
      if (!heldVocabulary || heldVocabulary.stale) {
        heldVocabulary = share(
          vocabularyKey,
          () => loadVocabulary(modelId, settings),
          (value) => value.dispose(),
        );
      }
      return heldVocabulary.value;
    };
    /** The same GGUF loaded by the dense-logits addon (Fidelity Loss), shared like the other loads. */
    const nativeModel: Parameters<typeof registerNativeTwin>[1] = (native) => {
      if (!heldNative || heldNative.stale) heldNative = nativeLoad(native, modelId, settings);
      return heldNative.value;
    };
    const withSequence = async <T>(job: (loadedModel: LoadedModel, sequence: LlamaSequence) => Promise<T>, signal?: AbortSignal): Promise<T> => {
      const loadedModel = await model();
      const sequence = await loadedModel.take(signal);
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

    const self: LanguageModel = {
      address,
      provider: settings.name,
      modelId,
      defaults,
      bosControl: true,
      prepare(options = {}): Promise<void> {
        return call(async () => {
          await loadLibrary();
          await model(options.signal);
        });
      },
      describe(): Promise<Record<string, string | number | boolean | null>> {
        return call(async () => describeLoaded(await model(), settings, await loadLibrary()));
      },
      generate(request: GenerateRequest): Promise<GenerateResult> {
        return call(async () => {
          const { LlamaChat } = await loadLibrary();
          return withSequence((loadedModel, sequence) => generateOnSequence(LlamaChat, sequence, request, loadedModel.model), request.signal);
        });
      },
      complete(request: CompletionRequest): Promise<GenerateResult> {
        return call(async () => {
          const { LlamaCompletion } = await loadLibrary();
          return withSequence((loadedModel, sequence) => completeOnSequence(LlamaCompletion, loadedModel.model, sequence, request), request.signal);
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
          // once; contexts are spread over the context's parallel sequences (each evaluated in batches of its own:
          // llamacpp-batching.ts), so a result does not depend on how many run at once.
          const groups = new Map<string, Array<{ index: number; whole: Token[]; from: number; bos: boolean }>>();
          requests.forEach(({ context, continuation }, index) => {
            const scored = scoredTokens(llamaModel, context, continuation, address, options.addBos);
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
      openDecoder(options: { signal?: AbortSignal } = {}): Promise<TokenDecoder> {
        return call(async () => openLlamaDecoder(await model(options.signal), address, options.signal));
      },
      embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
        return call(async () => embedder.embed((await model(options.signal)).model, texts, options.signal));
      },
      fidelityStatistics(base: LanguageModel, texts: readonly string[], options: ScoringOptions = {}): Promise<FidelityStatistics[] | undefined> {
        return call(async () => {
          const baseModel = nativeTwinOf(base);
          if (!baseModel) return undefined;
          const native = await denseLogitsAddon(settings.gpu ?? "auto");
          if (!native) return undefined;
          const [mine, theirs] = await Promise.all([nativeModel(native), baseModel(native)]);
          const llamaModel = await tokenizer();
          const results: FidelityStatistics[] = [];
          for (const text of texts) {
            if (options.signal?.aborted) throw new ProviderError("cancelled", "scoring cancelled");
            results.push(await nativeStatistics(native, mine, theirs, tokensOf(llamaModel, text), address));
          }
          return results;
        });
      },
      tokenize(text: string): Promise<TokenizeResult> {
        return call(async () => {
          const llamaModel = await tokenizer();
          return { ids: Uint32Array.from(llamaModel.tokenize(text)), fingerprint: vocabularyOf(llamaModel).fingerprint };
        });
      },
      detokenize(ids: readonly number[]): Promise<string> {
        return call(async () => (await tokenizer()).detokenize(ids));
      },
      async dispose(): Promise<void> {
        if (disposed) return;
        disposed = true;
        await Promise.all(inFlight);
        await embedder.dispose();
        for (const entry of [held, heldVocabulary, heldNative]) {
          if (!entry || entry.stale) continue;
          entry.users--;
          if (entry.users <= 0) await entry.free();
        }
        held = undefined;
        heldVocabulary = undefined;
        heldNative = undefined;
      },
    };
    registerNativeTwin(self, nativeModel);
    return self;
  };
}
