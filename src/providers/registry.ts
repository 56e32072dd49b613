import { UserError } from "../errors.js";
import { createAnthropic } from "./anthropic.js";
import { createGoogle } from "./google.js";
import { createOpenAICompatible } from "./openai.js";
import type { GenerationOptions, LanguageModel } from "./types.js";
import type { ProviderSettings } from "../config/schema.js";
import type { DownloadProgress } from "../io/download.js";
import { createLlamaCpp } from "./llamacpp/llamacpp-model.js";
import type { LlamaCppSettings } from "./llamacpp/llamacpp-loading.js";

type ProviderFactory = (settings: {
  name: string;
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
}) => (modelId: string, address: string, defaults: GenerationOptions) => LanguageModel;

interface BuiltinProvider {
  create: ProviderFactory;
  baseUrl: (env: NodeJS.ProcessEnv) => string;
  apiKeyEnv: string;
  /** Without a key these endpoints always refuse, so a missing key is reported before the run starts. */
  officialUrl: string;
}

/** The HTTP providers: adding one is its file and one entry here. (Local GGUF models are `llamacpp`, below.) */
const BUILTIN = {
  openai: { create: createOpenAICompatible, baseUrl: (env) => env.OPENAI_BASE_URL || "https://api.openai.com/v1", apiKeyEnv: "OPENAI_API_KEY", officialUrl: "https://api.openai.com" },
  anthropic: { create: createAnthropic, baseUrl: (env) => env.ANTHROPIC_BASE_URL || "https://api.anthropic.com", apiKeyEnv: "ANTHROPIC_API_KEY", officialUrl: "https://api.anthropic.com" },
  google: {
    create: createGoogle,
    baseUrl: (env) => env.GEMINI_BASE_URL || "https://generativelanguage.googleapis.com/v1beta",
    apiKeyEnv: "GEMINI_API_KEY",
    officialUrl: "https://generativelanguage.googleapis.com",
  },
} satisfies Record<string, BuiltinProvider>;

export type ProviderType = keyof typeof BUILTIN | "llamacpp";
export const PROVIDER_TYPES: ProviderType[] = [...(Object.keys(BUILTIN) as Array<keyof typeof BUILTIN>), "llamacpp"];

/** Provider names that mean local GGUF models: `llamacpp:./model.gguf`, `gguf:hf:owner/repo/file.gguf`. */
const LOCAL_PROVIDERS = new Set(["llamacpp", "gguf"]);

export type { ProviderSettings };

const SECRET_HEADER = /auth|key|token|secret|cookie/i;

/** A model ready to call, with the limits of the provider it belongs to. */
export interface ResolvedModel {
  model: LanguageModel;
  providerName: string;
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

  constructor(options: RegistryOptions = {}) {
    this.options = options;
    this.env = options.env ?? process.env;
    this.providers = { ...options.providers };
    if (options.baseUrl) this.providers.openai = { ...this.providers.openai, base_url: options.baseUrl };
  }

  /** `provider:model`, or a bare name for the default OpenAI-compatible endpoint. Colons after a known provider stay in the id (`ollama:llama3:8b`). */
  parseAddress(address: string): { providerName: string; modelId: string } {
    const colon = address.indexOf(":");
    if (colon > 0) {
      const prefix = address.slice(0, colon);
      if (prefix in this.providers || prefix in BUILTIN || LOCAL_PROVIDERS.has(prefix)) return { providerName: prefix, modelId: address.slice(colon + 1) };
    }
    return { providerName: "openai", modelId: address };
  }

  resolve(address: string): ResolvedModel {
    const { providerName, modelId } = this.parseAddress(address);
    if (!modelId) throw new UserError(`model "${address}": no model name after "${providerName}:"`);
    const settings = this.providers[providerName] ?? {};
    const type = settings.type ?? (providerName in BUILTIN ? (providerName as ProviderType) : LOCAL_PROVIDERS.has(providerName) ? "llamacpp" : undefined);
    if (!type) throw new UserError(`provider "${providerName}" needs a type (one of ${PROVIDER_TYPES.join(", ")}) in its providers: entry`);
    // `gguf:` is another name for `llamacpp:` and shares its settings.
    if (type === "llamacpp") return this.resolveLocal(providerName, modelId, address, providerName === "gguf" ? { ...this.providers.llamacpp, ...settings } : settings);
    const builtin = BUILTIN[type];
    const baseUrl = settings.base_url ?? builtin.baseUrl(this.env);
    const apiKeyEnv = settings.api_key_env ?? builtin.apiKeyEnv;
    const apiKey = this.env[apiKeyEnv] || undefined;
    if (!apiKey && baseUrl.startsWith(builtin.officialUrl)) {
      throw new UserError(
        `model "${address}" needs an API key: set ${apiKeyEnv} in the environment or in .env` + (type === "openai" ? " (or point --base-url / OPENAI_BASE_URL at a local server)" : ""),
      );
    }
    if (apiKey) this.secretValues.add(apiKey);
    for (const [name, value] of Object.entries(settings.headers ?? {})) {
      if (SECRET_HEADER.test(name)) this.secretValues.add(value.replace(/^(Bearer|Basic)\s+/i, ""));
    }
    const factory = BUILTIN[type].create({ name: providerName, baseUrl, apiKey, headers: settings.headers });
    const resolved: ResolvedModel = { model: factory(modelId, address, settings.models?.[modelId] ?? {}), providerName };
    if (settings.max_concurrency !== undefined) resolved.maxConcurrency = settings.max_concurrency;
    if (settings.rate_limit_rps !== undefined) resolved.rateLimitRps = settings.rate_limit_rps;
    return resolved;
  }

  private resolveLocal(providerName: string, modelId: string, address: string, settings: ProviderSettings): ResolvedModel {
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

  /** Key and header values seen while resolving models; output is scrubbed of them. */
  secrets(): string[] {
    return [...this.secretValues].filter((value) => value.length >= 6);
  }
}
