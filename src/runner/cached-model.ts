import type { CompletionCall, GenerationOptions, ModelCall } from "../providers/types.js";
import type { ResolvedModel } from "../providers/registry.js";
import { ResponseCache } from "./response-cache.js";

/** What the cache did in one run: answers reused, answers stored, and calls it was not allowed to serve. */
export class CacheCounters {
  hits = 0;
  stored = 0;
  /** Calls at a temperature above 0 without a seed: sampled afresh (a cached answer would fake a new sample). */
  nondeterministic = 0;
}

/** Providers whose generation is greedy when no temperature is given (alignbench's llama.cpp defaults to 0). */
const GREEDY_BY_DEFAULT = new Set(["llamacpp", "gguf"]);

/**
 * Whether an answer may come from the cache: a greedy call (temperature 0) or a seeded one, whose answer a
 * new call would repeat; a sampled call without a seed only with --cache-nondeterministic. A missing
 * temperature is the provider's default, which is sampling for APIs.
 */
export function cacheable(options: GenerationOptions, greedyByDefault: boolean, nondeterministic: boolean): boolean {
  if (nondeterministic || options.seed !== undefined) return true;
  return (options.temperature ?? (greedyByDefault ? 0 : undefined)) === 0;
}

/** A model's calls through the response cache: the key is its identity and the whole request (response-cache.ts). */
export class CachedModels {
  readonly counters = new CacheCounters();
  private readonly identities = new Map<ResolvedModel, Promise<Record<string, unknown>>>();

  constructor(
    readonly cache: ResponseCache,
    private readonly nondeterministic: boolean,
  ) {}

  /**
   * The model's identity in keys: provider, id and endpoint (without its port: the same server restarted),
   * and what its description pins (a local model's file hash and chat template), computed once.
   */
  private identity(resolved: ResolvedModel): Promise<Record<string, unknown>> {
    let identity = this.identities.get(resolved);
    if (!identity) {
      identity = (async () => ({
        provider: resolved.providerName,
        model_id: resolved.model.modelId,
        endpoint: resolved.endpoint ? portless(resolved.endpoint) : null,
        ...((await resolved.model.describe?.()) ?? {}),
      }))();
      this.identities.set(resolved, identity);
    }
    return identity;
  }

  chat(resolved: ResolvedModel, call: ModelCall): ModelCall {
    const greedy = GREEDY_BY_DEFAULT.has(resolved.providerName);
    return async (request) => {
      if (!cacheable(request.options, greedy, this.nondeterministic)) {
        this.counters.nondeterministic++;
        return call(request);
      }
      const key = ResponseCache.key(await this.identity(resolved), {
        kind: "chat",
        messages: request.messages,
        options: request.options,
        response_format: request.responseFormat ?? null,
        top_logprobs: request.topLogprobs ?? null,
      });
      return this.through(key, resolved.model.address, () => call(request));
    };
  }

  completion(resolved: ResolvedModel, call: CompletionCall): CompletionCall {
    const greedy = GREEDY_BY_DEFAULT.has(resolved.providerName);
    return async (request) => {
      if (!cacheable(request.options, greedy, this.nondeterministic)) {
        this.counters.nondeterministic++;
        return call(request);
      }
      const key = ResponseCache.key(await this.identity(resolved), { kind: "completion", prompt: request.prompt, options: request.options });
      return this.through(key, resolved.model.address, () => call(request));
    };
  }

  private async through(key: string, model: string, call: () => ReturnType<ModelCall>): ReturnType<ModelCall> {
    const found = this.cache.get(key);
    if (found) {
      this.counters.hits++;
      return { ...found, cached: true };
    }
    const result = await call();
    // Only a finished answer is kept; an error is never cached (a retry, or the next run, asks again).
    this.cache.put(key, model, { ...result, cached: undefined });
    this.counters.stored++;
    return result;
  }
}

function portless(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.hostname}${url.pathname}`;
  } catch {
    return endpoint;
  }
}
