import { UserError } from "../../errors.js";
import { ProviderError } from "../errors.js";
import type { Message } from "../messages.js";
import type { CompletionRequest, GenerateRequest, GenerateResult, GenerationOptions, LanguageModel, LoglikelihoodRequest, LoglikelihoodResult, ScoringOptions, TokenDecoder } from "../types.js";
import { generateMixed } from "./mixture.js";
import { mixedLoglikelihood } from "./moe-scoring.js";
import { expertAddress, parseMoeModelId, readRouter, type MixMode, type RouterFile } from "./router-file.js";
import { route, topExpert, type Routing } from "./routing.js";

/** Resolves a model address the way the run's registry does (providers, keys, local settings). */
export type ResolveModel = (address: string) => LanguageModel;

interface Loaded {
  router: RouterFile;
  /** The router file's sha256, first 16 hex digits: recorded with each answer. */
  routerHash: string;
  mode: MixMode;
  experts: LanguageModel[];
  embedding: LanguageModel;
}

/** Embeddings kept per routing text, so epochs and personas of one item embed it once. */
const EMBEDDING_CACHE_ENTRIES = 4096;

/**
 * `moe:[top:|mix:]router.json`: a mixture of calibrated experts. Each prompt is embedded and routed
 * (routing.ts); mode `top` sends it to the expert with the largest weight, mode `mix` decodes from the
 * weighted mixture of the experts' next-token distributions (mixture.ts; local experts sharing a vocabulary).
 * The routing weights go with every answer (`details.moe`), into the row's transcript.
 */
export function createMoe(resolveModel: ResolveModel) {
  return (modelId: string, address: string, defaults: GenerationOptions): LanguageModel => {
    const { mode: override, file } = parseMoeModelId(modelId);
    let loading: Promise<Loaded> | undefined;
    const embeddings = new Map<string, Promise<number[]>>();

    const load = (): Promise<Loaded> => {
      loading ??= open(file, override, resolveModel, address).catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      return loading;
    };
    const embed = (loaded: Loaded, text: string, signal?: AbortSignal): Promise<number[]> => {
      let vector = embeddings.get(text);
      if (!vector) {
        if (embeddings.size >= EMBEDDING_CACHE_ENTRIES) embeddings.delete(embeddings.keys().next().value!);
        vector = loaded.embedding.embed!([text], signal ? { signal } : {}).then(([first]) => first!);
        vector.catch(() => embeddings.delete(text));
        embeddings.set(text, vector);
      }
      return vector;
    };
    const routeText = async (loaded: Loaded, text: string, signal?: AbortSignal): Promise<Routing> => {
      const vector = await embed(loaded, text, signal);
      const { experts } = loaded.router;
      if (vector.length !== experts[0]!.centroid.length) {
        throw new ProviderError(
          "client_error",
          `${address}: the embedding model ${loaded.router.embedding} gave ${vector.length} dimensions, the router's centroids have ${experts[0]!.centroid.length}`,
        );
      }
      return route(
        vector,
        experts.map((entry) => entry.centroid),
        experts.map((entry) => entry.lambda),
        loaded.router.temperature,
      );
    };
    const answer = async (
      input: { messages: readonly Message[] } | { prompt: string },
      options: GenerationOptions,
      signal: AbortSignal | undefined,
      viaExpert: (expert: LanguageModel) => Promise<GenerateResult>,
    ): Promise<GenerateResult> => {
      const loaded = await load();
      const routing = await routeText(loaded, routingText(input), signal);
      const names = loaded.router.experts.map((entry) => entry.name);
      const weights = Object.fromEntries(names.map((name, index) => [name, round(routing.weights[index]!)]));
      const similarities = Object.fromEntries(names.map((name, index) => [name, round(routing.similarities[index]!)]));
      if (loaded.mode === "top") {
        const chosen = topExpert(routing.weights);
        const result = await viaExpert(loaded.experts[chosen]!);
        return { ...result, details: { moe: { mode: "top", expert: names[chosen], weights, similarities, router: loaded.routerHash } } };
      }
      const started = performance.now();
      const active = routing.weights.map((weight, index) => ({ weight, index })).filter(({ weight }) => weight > 0);
      const decoders: TokenDecoder[] = [];
      try {
        for (const { index } of active) decoders.push(await loaded.experts[index]!.openDecoder!(signal ? { signal } : {}));
        const prompt = "messages" in input ? await decoders[0]!.chatTokens(input.messages) : decoders[0]!.textTokens(input.prompt);
        const generated = await generateMixed(
          decoders,
          active.map(({ weight }) => weight),
          prompt,
          options,
          signal,
        );
        return {
          text: generated.text,
          usage: { input_tokens: prompt.length, output_tokens: generated.tokens.length },
          latencyMs: performance.now() - started,
          finishReason: generated.finishReason,
          details: { moe: { mode: "mix", weights, similarities, seed: options.seed ?? 0, router: loaded.routerHash } },
        };
      } finally {
        await Promise.all(decoders.map((decoder) => decoder.close()));
      }
    };

    /**
     * Log-likelihoods, each routed on its context: top mode asks the chosen expert (requests batched per
     * expert), mix mode scores the mixture's own distribution (moe-scoring.ts).
     */
    const loglikelihoods = async (requests: readonly LoglikelihoodRequest[], options: ScoringOptions = {}): Promise<LoglikelihoodResult[]> => {
      const loaded = await load();
      const routings = [];
      for (const request of requests) routings.push(await routeText(loaded, request.context, options.signal));
      const results: LoglikelihoodResult[] = new Array(requests.length);
      if (loaded.mode === "top") {
        const chosen = routings.map((routing) => topExpert(routing.weights));
        for (const expertIndex of new Set(chosen)) {
          const expert = loaded.experts[expertIndex]!;
          if (!expert.loglikelihoods) throw new ProviderError("client_error", `${address}: the expert ${expert.address} gives no log-likelihoods`);
          const indices = chosen.flatMap((value, index) => (value === expertIndex ? [index] : []));
          const answers = await expert.loglikelihoods(
            indices.map((index) => requests[index]!),
            options,
          );
          indices.forEach((index, position) => (results[index] = answers[position]!));
        }
        return results;
      }
      for (const [index, request] of requests.entries()) {
        const active = routings[index]!.weights.flatMap((weight, expert) => (weight > 0 ? [{ weight, expert: loaded.experts[expert]! }] : []));
        results[index] = await mixedLoglikelihood(
          active.map(({ expert }) => expert),
          active.map(({ weight }) => weight),
          request.context,
          request.continuation,
          options,
        );
      }
      return results;
    };

    return {
      address,
      provider: "moe",
      modelId,
      defaults,
      async prepare(options = {}): Promise<void> {
        const loaded = await load();
        for (const model of [loaded.embedding, ...loaded.experts]) await model.prepare?.(options);
        if (loaded.mode === "mix") await checkSharedVocabulary(loaded, address);
      },
      generate(request: GenerateRequest): Promise<GenerateResult> {
        return answer({ messages: request.messages }, request.options, request.signal, (expert) => expert.generate(request));
      },
      complete(request: CompletionRequest): Promise<GenerateResult> {
        return answer({ prompt: request.prompt }, request.options, request.signal, (expert) => {
          if (!expert.complete) throw new ProviderError("client_error", `${address}: the expert ${expert.address} cannot continue a plain text`);
          return expert.complete(request);
        });
      },
      loglikelihoods,
      async loglikelihood(context: string, continuation: string, options?: ScoringOptions): Promise<LoglikelihoodResult> {
        return (await loglikelihoods([{ context, continuation }], options))[0]!;
      },
      async dispose(): Promise<void> {
        const loaded = await loading?.catch(() => undefined);
        loading = undefined;
        if (loaded) for (const model of [loaded.embedding, ...loaded.experts]) await model.dispose?.();
      },
    };
  };
}

async function open(file: string, override: MixMode | undefined, resolveModel: ResolveModel, address: string): Promise<Loaded> {
  const { router, sha256 } = await readRouter(file);
  const mode = override ?? router.mode;
  const embedding = resolveModel(expertAddress(router.embedding, file));
  if (!embedding.embed) throw new UserError(`${file}: embedding: ${router.embedding} cannot embed texts (use an OpenAI-compatible /embeddings model or llamacpp:PATH.gguf)`);
  const experts = router.experts.map((entry) => resolveModel(expertAddress(entry.model, file)));
  if (mode === "mix") {
    // One model twice would take two sequences of one context per answer: parallel answers could each hold one and wait for the other.
    const twice = router.experts.find((entry, index) => router.experts.findIndex((other) => expertAddress(other.model, file) === expertAddress(entry.model, file)) !== index);
    if (twice) throw new UserError(`${file}: experts: ${twice.model} is listed twice; in mode mix each expert must be another model`);
    const lacking = experts.filter((expert) => !expert.openDecoder).map((expert) => expert.address);
    if (lacking.length > 0) {
      throw new UserError(
        `${address}: mode mix mixes next-token distributions, which ${lacking.join(", ")} cannot give token by token: mix needs local experts (llamacpp:PATH.gguf) sharing a vocabulary; use mode top for other models`,
      );
    }
  }
  return { router, routerHash: sha256.slice(0, 16), mode, experts, embedding };
}

/** Refuses experts whose vocabularies differ, naming them: their distributions cannot be added token by token. */
async function checkSharedVocabulary(loaded: Loaded, address: string): Promise<void> {
  const fingerprints = await Promise.all(loaded.experts.map(async (expert) => (await expert.tokenize!("")).fingerprint));
  const differing = loaded.experts.filter((_expert, index) => fingerprints[index] !== fingerprints[0]);
  if (differing.length > 0) {
    throw new UserError(
      `${address}: mode mix adds the experts' next-token distributions token by token, so they must share a vocabulary, but ${differing.map((expert) => expert.address).join(", ")} ` +
        `${differing.length === 1 ? "has" : "have"} another tokenizer than ${loaded.experts[0]!.address} (fingerprints ${fingerprints[0]!.slice(0, 12)}… and ${fingerprints[loaded.experts.indexOf(differing[0]!)]!.slice(0, 12)}…); use mode top for such experts`,
    );
  }
}

/** The text a prompt is routed on: the last user message of a chat (a persona's system prompt does not move it), or a completion's prompt. */
export function routingText(input: { messages: readonly Message[] } | { prompt: string }): string {
  if ("prompt" in input) return input.prompt;
  const user = input.messages.filter((message) => message.role === "user").at(-1);
  return user?.content ?? input.messages.at(-1)?.content ?? "";
}

function round(value: number): number {
  return Number(value.toPrecision(6));
}
