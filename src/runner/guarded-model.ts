import type { GenerateRequest, GenerateResult, LanguageModel, ModelCall } from "../providers/types.js";
import type { ProviderError } from "../providers/errors.js";
import type { RateLimiter } from "./rate-limiter.js";
import { withRetries, type RetryPolicy } from "./retry.js";
import type { Semaphore } from "./semaphore.js";

export interface CallPolicy {
  retry: RetryPolicy;
  timeoutMs: number;
  rateLimiter?: RateLimiter;
  /** The provider's own concurrency limit, shared by its models. */
  providerSlots?: Semaphore;
  onRetry?(model: LanguageModel, error: ProviderError, attempt: number, delayMs: number): void;
}

/** A model wrapped in the run's policies: the provider's slots, the rate limit, the timeout and retries. */
export function guardModel(model: LanguageModel, policy: CallPolicy): ModelCall {
  const once = async (request: Omit<GenerateRequest, "timeoutMs">): Promise<GenerateResult> => {
    await policy.rateLimiter?.acquire(request.signal);
    return model.generate({ ...request, timeoutMs: policy.timeoutMs });
  };
  const limited = policy.providerSlots
    ? (request: Omit<GenerateRequest, "timeoutMs">) => policy.providerSlots!.with(() => once(request))
    : once;
  return (request) =>
    withRetries(() => limited(request), policy.retry, { onRetry: (error, attempt, delay) => policy.onRetry?.(model, error, attempt, delay) }, request.signal);
}

/**
 * The same model for scorers that read its log-likelihoods (multiple choice): those calls share the
 * model's rate limit and provider slots with its generations, and are retried the same way.
 */
export function guardScoring(model: LanguageModel, policy: CallPolicy): LanguageModel {
  const score = model.loglikelihood?.bind(model);
  if (!score) return model;
  const guarded: LanguageModel["loglikelihood"] = (context, continuation, options = {}) => {
    const once = async () => {
      await policy.rateLimiter?.acquire(options.signal);
      return score(context, continuation, { timeoutMs: policy.timeoutMs, ...options });
    };
    const limited = policy.providerSlots ? () => policy.providerSlots!.with(once) : once;
    return withRetries(limited, policy.retry, { onRetry: (error, attempt, delay) => policy.onRetry?.(model, error, attempt, delay) }, options.signal);
  };
  return Object.assign(Object.create(model) as LanguageModel, { loglikelihood: guarded });
}
