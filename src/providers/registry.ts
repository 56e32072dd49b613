import { UserError } from "../errors.js";
import { MIN_SECRET_LENGTH, noteSecrets } from "../secrets.js";
import { parseModelAddress, type ModelAddress } from "./address.js";
import { redactUrl, splitUserinfo, urlCredentials } from "./url.js";
import { createAnthropic } from "./anthropic.js";
import { createGoogle } from "./google.js";
import { createOpenAICompatible } from "./openai.js";
import { pooledModel } from "./endpoints/pooled-model.js";
import { EndpointPool } from "./endpoints/endpoint-pool.js";
import type { GenerationOptions, LanguageModel } from "./types.js";
import type { ProviderSettings } from "../config/schema.js";
import type { DownloadProgress } from "../io/download.js";
import { createLlamaCpp } from "./llamacpp/llamacpp-model.js";
import type { LlamaCppSettings } from "./llamacpp/llamacpp-loading.js";
import { createMoe } from "./moe/moe-model.js";

type ProviderFactory = (settings: {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
}) => (modelId: string, address: string, defaults: GenerationOptions) => LanguageModel;

/** The HTTP API families; a provider speaks one of them. */
const API = { openai: createOpenAICompatible, anthropic: createAnthropic, google: createGoogle } satisfies Record<string, ProviderFactory>;
type ApiFamily = keyof typeof API;

interface BuiltinProvider {
  api: ApiFamily;
  /** Where it is served by default; `baseUrlEnv` (then a `providers:` entry's base_url) overrides it. */
  baseUrl: string;
  baseUrlEnv: string;
  /** Where the key is read from; local servers need none (a key set there is still sent). */
  apiKeyEnv?: string;
  /** The default endpoint refuses every call without a key, so a missing key is reported before the run starts. */
  keyRequired?: boolean;
}

/**
 * The built-in HTTP providers, by the name used in model addresses: adding one is one entry here (a new API
 * family is its file and an entry in API). Local GGUF models are `llamacpp`, below. The first three are also
 * the API families a `providers:` entry's `type` names.
 */
const BUILTIN: Record<string, BuiltinProvider> = {
  openai: { api: "openai", baseUrl: "https://api.openai.com/v1", baseUrlEnv: "OPENAI_BASE_URL", apiKeyEnv: "OPENAI_API_KEY", keyRequired: true },
  anthropic: { api: "anthropic", baseUrl: "https://api.anthropic.com", baseUrlEnv: "ANTHROPIC_BASE_URL", apiKeyEnv: "ANTHROPIC_API_KEY", keyRequired: true },
  google: { api: "google", baseUrl: "https://generativelanguage.googleapis.com/v1beta", baseUrlEnv: "GEMINI_BASE_URL", apiKeyEnv: "GEMINI_API_KEY", keyRequired: true },
  openrouter: { api: "openai", baseUrl: "https://openrouter.ai/api/v1", baseUrlEnv: "OPENROUTER_BASE_URL", apiKeyEnv: "OPENROUTER_API_KEY", keyRequired: true },
  together: { api: "openai", baseUrl: "https://api.together.xyz/v1", baseUrlEnv: "TOGETHER_BASE_URL", apiKeyEnv: "TOGETHER_API_KEY", keyRequired: true },
  ollama: { api: "openai", baseUrl: "http://127.0.0.1:11434/v1", baseUrlEnv: "OLLAMA_BASE_URL", apiKeyEnv: "OLLAMA_API_KEY" },
  vllm: { api: "openai", baseUrl: "http://127.0.0.1:8000/v1", baseUrlEnv: "VLLM_BASE_URL", apiKeyEnv: "VLLM_API_KEY" },
  lmstudio: { api: "openai", baseUrl: "http://127.0.0.1:1234/v1", baseUrlEnv: "LMSTUDIO_BASE_URL", apiKeyEnv: "LMSTUDIO_API_KEY" },
  "llamacpp-server": { api: "openai", baseUrl: "http://127.0.0.1:8080/v1", baseUrlEnv: "LLAMACPP_SERVER_BASE_URL", apiKeyEnv: "LLAMACPP_SERVER_API_KEY" },
};

/** The built-in providers' names with their default addresses, for help texts. */
export function builtinProviders(): Array<{ name: string; baseUrl: string; baseUrlEnv: string; apiKeyEnv?: string; keyRequired: boolean }> {
  return Object.entries(BUILTIN).map(([name, entry]) => ({
    name,
    baseUrl: entry.baseUrl,
    baseUrlEnv: entry.baseUrlEnv,
    ...(entry.apiKeyEnv ? { apiKeyEnv: entry.apiKeyEnv } : {}),
    keyRequired: Boolean(entry.keyRequired),
  }));
}

export type ProviderType = ApiFamily | "llamacpp";
export const PROVIDER_TYPES: ProviderType[] = [...(Object.keys(API) as ApiFamily[]), "llamacpp"];

/** Provider names that mean local GGUF models: `llamacpp:./model.gguf`, `gguf:hf:owner/repo/file.gguf`. */
const LOCAL_PROVIDERS = new Set(["llamacpp", "gguf"]);
/** `moe:router.json`: a mixture of calibrated experts (src/providers/moe/), whose experts resolve through this registry. */
const MOE_PROVIDER = "moe";

export type { ProviderSettings };

/** A model ready to call, with the limits of the provider it belongs to. */
export interface ResolvedModel {
  model: LanguageModel;
  providerName: string;
  /** Where an API model's requests go (its base URL, credentials removed); absent for local models. */
  endpoint?: string;
  maxConcurrency?: number;
  rateLimitRps?: number;
}

export interface RegistryOptions {
  providers?: Record<string, ProviderSettings>;
  /** The run's concurrency: how many parallel sequences a local model gets by default. */
  concurrency?: number;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /** `--base-url`: where bare model names and `openai:` go. */
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export class ModelRegistry {
  private readonly providers: Record<string, ProviderSettings>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly secretValues = new Set<string>();
  private readonly options: RegistryOptions;
  private readonly pools = new Map<string, EndpointPool>();

  constructor(options: RegistryOptions = {}) {
    this.options = options;
    this.env = options.env ?? process.env;
    this.providers = { ...options.providers };
    if (options.baseUrl) this.providers.openai = { ...this.providers.openai, base_url: options.baseUrl };
  }

  /** `provider:model`, or a bare name for the default OpenAI-compatible endpoint (see address.ts). */
  parseAddress(address: string): ModelAddress {
    const names = [...new Set([...Object.keys(BUILTIN), ...LOCAL_PROVIDERS, MOE_PROVIDER, ...Object.keys(this.providers)])];
    return parseModelAddress(address, { names, defaultIsOpenAI: this.defaultIsOpenAI() });
  }

  /** Whether bare names go to OpenAI's own API (no --base-url, OPENAI_BASE_URL or providers.openai.base_url elsewhere). */
  private defaultIsOpenAI(): boolean {
    const openai = BUILTIN.openai!;
    return origin(this.providers.openai?.base_url ?? (this.env[openai.baseUrlEnv] || openai.baseUrl)) === origin(openai.baseUrl);
  }

  resolve(address: string): ResolvedModel {
    const { providerName, modelId } = this.parseAddress(address);
    if (!modelId) throw new UserError(`model "${address}": no model name after "${providerName}:"`);
    if (providerName === MOE_PROVIDER) return { model: createMoe((expert) => this.resolve(expert).model)(modelId, address, {}), providerName };
    const settings = this.providers[providerName] ?? {};
    const builtin = BUILTIN[providerName];
    const type = settings.type ?? builtin?.api ?? (LOCAL_PROVIDERS.has(providerName) ? "llamacpp" : undefined);
    if (!type) throw new UserError(`provider "${providerName}" needs a type (one of ${PROVIDER_TYPES.join(", ")}) in its providers: entry`);
    // `gguf:` is another name for `llamacpp:` and shares its settings.
    if (type === "llamacpp") return this.resolveLocal(providerName, modelId, address, providerName === "gguf" ? { ...this.providers.llamacpp, ...settings } : settings);
    // A built-in name keeps its defaults unless its entry switches the API family; a new name takes its family's.
    const defaults = builtin?.api === type ? builtin : BUILTIN[type]!;
    if (settings.base_urls && settings.base_url) throw new UserError(`provider "${providerName}": give base_url or base_urls, not both`);
    const urls = settings.base_urls ?? [settings.base_url ?? (this.env[defaults.baseUrlEnv] || defaults.baseUrl)];
    const apiKeyEnv = settings.api_key_env ?? defaults.apiKeyEnv;
    const apiKey = (apiKeyEnv && this.env[apiKeyEnv]) || undefined;
    const models = urls.map((given) => ({ url: given, model: this.httpModel(providerName, modelId, address, settings, defaults, type, given, apiKeyEnv, apiKey) }));
    const adaptive = settings.concurrency === "auto";
    // Several endpoints, or one whose concurrency adapts, go through an endpoint pool (providers/endpoints/).
    const model =
      models.length > 1 || adaptive
        ? pooledModel(
            this.endpointPool(providerName, urls, settings),
            models.map((entry) => entry.model),
          )
        : models[0]!.model;
    // Pinned in the manifest (run-pins.ts): the server(s) answering, credentials removed.
    const resolved: ResolvedModel = { model, providerName, endpoint: urls.map((url) => redactUrl(url)).join(",") };
    // With concurrency: auto, max_concurrency caps each endpoint's adaptive limit instead of the whole provider.
    if (settings.max_concurrency !== undefined && !adaptive) resolved.maxConcurrency = settings.max_concurrency;
    if (settings.rate_limit_rps !== undefined) resolved.rateLimitRps = settings.rate_limit_rps;
    return resolved;
  }

  /** The provider's endpoint pool, one for all its models: a server's load and health are those of every model it serves. */
  private endpointPool(providerName: string, urls: string[], settings: ProviderSettings): EndpointPool {
    let pool = this.pools.get(providerName);
    if (!pool) {
      pool = new EndpointPool(urls, {
        adaptive: settings.concurrency === "auto",
        ...(settings.max_concurrency !== undefined ? { maxConcurrency: settings.max_concurrency } : {}),
        ...(settings.eject_cooldown_s !== undefined ? { cooldownMs: settings.eject_cooldown_s * 1000 } : {}),
      });
      this.pools.set(providerName, pool);
    }
    return pool;
  }

  /** One endpoint's model: its URL checked, its credentials remembered as secrets, the key required where the provider needs one. */
  private httpModel(
    providerName: string,
    modelId: string,
    address: string,
    settings: ProviderSettings,
    defaults: BuiltinProvider,
    type: ApiFamily,
    given: string,
    apiKeyEnv: string | undefined,
    apiKey: string | undefined,
  ): LanguageModel {
    // Every value that could authenticate is a secret, whatever its header is called.
    this.remember([apiKey, ...Object.values(settings.headers ?? {}).flatMap(headerSecrets), ...urlCredentials(given)]);
    let endpoint: { url: string; authorization?: string };
    try {
      endpoint = splitUserinfo(given);
    } catch {
      throw new UserError(`provider "${providerName}": base URL "${redactUrl(given)}" is not a URL${settings.base_url ? "" : ` (from ${defaults.baseUrlEnv})`}`);
    }
    if (endpoint.authorization) this.remember(headerSecrets(endpoint.authorization));
    if (!apiKey && defaults.keyRequired && origin(endpoint.url) === origin(defaults.baseUrl)) {
      throw new UserError(
        `model "${address}" needs an API key: set ${apiKeyEnv} in the environment or in .env` + (providerName === "openai" ? " (or point --base-url / OPENAI_BASE_URL at a local server)" : ""),
      );
    }
    // Credentials written into the URL go as Basic authorization (an API key, sent as a bearer token, wins).
    const headers = { ...(endpoint.authorization ? { authorization: endpoint.authorization } : {}), ...settings.headers };
    const factory = API[type]({ name: providerName, baseUrl: endpoint.url, apiKey, headers });
    return factory(modelId, address, settings.models?.[modelId] ?? {});
  }

  private remember(values: Array<string | undefined>): void {
    const secrets = values.filter((value): value is string => Boolean(value) && value!.length >= MIN_SECRET_LENGTH);
    for (const value of secrets) this.secretValues.add(value);
    noteSecrets(secrets);
  }

  private resolveLocal(providerName: string, modelId: string, address: string, settings: ProviderSettings): ResolvedModel {
    this.remember([this.env.HF_TOKEN]); // sent to the hub for gated files
    const local: LlamaCppSettings = { name: providerName };
    if (settings.context_size !== undefined) local.contextSize = settings.context_size;
    if (settings.threads !== undefined) local.threads = settings.threads;
    if (settings.gpu !== undefined) local.gpu = settings.gpu;
    if (settings.gpu_layers !== undefined) local.gpuLayers = settings.gpu_layers;
    const sequences = settings.sequences ?? this.options.concurrency;
    if (sequences !== undefined) local.sequences = sequences;
    if (settings.cache_dir !== undefined) local.cacheDir = settings.cache_dir;
    if (this.options.onDownloadProgress) local.onDownloadProgress = this.options.onDownloadProgress;
    const resolved: ResolvedModel = { model: createLlamaCpp(local)(modelId, address, settings.models?.[modelId] ?? {}), providerName };
    if (settings.max_concurrency !== undefined) resolved.maxConcurrency = settings.max_concurrency;
    return resolved;
  }

  /** Key, header and URL-credential values seen while resolving models; what alignbench writes of its settings and errors is scrubbed of them. */
  secrets(): string[] {
    return [...this.secretValues];
  }
}

/** A header's value and, for `Bearer …` / `Basic …` and the like, the credential after the scheme. */
function headerSecrets(value: string): string[] {
  const scheme = /^(?:Bearer|Basic|Token|Bot|Key|ApiKey|Api-Key|Digest)\s+(\S.*)$/i.exec(value);
  return scheme ? [value, scheme[1]!] : [value];
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
