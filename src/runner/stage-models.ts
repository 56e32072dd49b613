import { runConfigSchema, type RunConfigInput } from "../config/schema.js";
import type { Message } from "../providers/messages.js";
import type { GenerateResult, GenerationOptions, ModelCall } from "../providers/types.js";
import { CallPolicies } from "./prepare.js";
import { preflight, type PreflightResult } from "./preflight.js";
import type { RunReporter } from "./reporter.js";

export interface StageModelOptions {
  concurrency?: number;
  rateLimitRps?: number;
  baseUrl?: string;
  retries?: number;
  env?: NodeJS.ProcessEnv;
}

/** The models a stage calls, each with the run policies (retries, rate limit, timeout) of any run. */
export class StageModels {
  private readonly policies: CallPolicies;
  private readonly calls = new Map<string, ModelCall>();
  readonly concurrency: number;

  constructor(options: StageModelOptions) {
    const input: RunConfigInput = { concurrency: options.concurrency ?? 8 };
    if (options.rateLimitRps) input.rate_limit_rps = options.rateLimitRps;
    if (options.baseUrl) input.base_url = options.baseUrl;
    if (options.retries !== undefined) input.retries = options.retries;
    const config = runConfigSchema.parse(input);
    this.concurrency = config.concurrency;
    this.policies = new CallPolicies(config, {}, options.env ?? process.env);
  }

  /** Resolves every address now, so an unknown provider stops the stage before its run folder is made. */
  check(addresses: string[]): void {
    for (const address of addresses) this.call(address);
  }

  call(address: string): ModelCall {
    let call = this.calls.get(address);
    if (!call) {
      call = this.policies.call(this.policies.registry.resolve(address));
      this.calls.set(address, call);
    }
    return call;
  }

  ask(address: string, messages: Message[], options: GenerationOptions, signal?: AbortSignal, topLogprobs?: number): Promise<GenerateResult> {
    const request: Parameters<ModelCall>[0] = { messages, options };
    if (signal) request.signal = signal;
    if (topLogprobs !== undefined) request.topLogprobs = topLogprobs;
    return this.call(address)(request);
  }

  /** provider:model as resolved, to tell whether two addresses name one model. */
  identity(address: string): string {
    const resolved = this.policies.registry.resolve(address);
    return `${resolved.providerName}:${resolved.model.modelId}`;
  }

  /**
   * run's preflight for the stage's models: one short call each (a local model is loaded instead), so a
   * refused key, an unknown model or an unreachable endpoint stops the stage at once (exit 2) instead of
   * failing every item.
   */
  async preflight(addresses: string[], reporter?: RunReporter, signal?: AbortSignal): Promise<PreflightResult[]> {
    const runnable = [...new Set(addresses)].map((address) => this.policies.runnable("model", address, {}));
    for (const model of runnable) await model.resolved.model.prepare?.();
    if (runnable.some((model) => !model.resolved.model.prepare)) reporter?.onMessage?.("preflight: one short call per model…");
    return preflight(runnable, { signal, skipHint: "--no-preflight skips this check" });
  }

  secrets(): string[] {
    return this.policies.registry.secrets();
  }
}
