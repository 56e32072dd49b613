import type { CompletionCall, GenerateRequest, GenerateResult, LanguageModel, ModelCall } from "../providers/types.js";
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

/** One call of a model under its policy: the rate limit, then the provider's slots, retried as the policy says. */
function underPolicy<T>(model: LanguageModel, policy: CallPolicy, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  const once = async () => {
    await policy.rateLimiter?.acquire(signal);
    return call();
  };
  const limited = policy.providerSlots ? () => policy.providerSlots!.with(once) : once;
  return withRetries(limited, policy.retry, { onRetry: (error, attempt, delay) => policy.onRetry?.(model, error, attempt, delay) }, signal);
}

/** A model wrapped in the run's policies: the provider's slots, the rate limit, the timeout and retries. */
export function guardModel(model: LanguageModel, policy: CallPolicy): ModelCall {
  return (request: Omit<GenerateRequest, "timeoutMs">): Promise<GenerateResult> => underPolicy(model, policy, request.signal, () => model.generate({ ...request, timeoutMs: policy.timeoutMs }));
}

/** A model's plain completions under the same policy as its chat calls; undefined when the model has none. */
export function guardCompletion(model: LanguageModel, policy: CallPolicy): CompletionCall | undefined {
  const complete = model.complete?.bind(model);
  if (!complete) return undefined;
  return (request) => underPolicy(model, policy, request.signal, () => complete({ ...request, timeoutMs: policy.timeoutMs }));
}

/**
 * The same model for scorers that read its log-likelihoods (multiple choice, dense log-probabilities): those calls share the
 * model's rate limit and provider slots with its generations, and are retried the same way.
 */
export function guardScoring(model: LanguageModel, policy: CallPolicy): LanguageModel {
  const guarded: Partial<LanguageModel> = {};
  const score = model.loglikelihood?.bind(model);
  if (score)
    guarded.loglikelihood = (context, continuation, options = {}) => underPolicy(model, policy, options.signal, () => score(context, continuation, { timeoutMs: policy.timeoutMs, ...options }));
  const scoreMany = model.loglikelihoods?.bind(model);
  if (scoreMany) guarded.loglikelihoods = (requests, options = {}) => underPolicy(model, policy, options.signal, () => scoreMany(requests, { timeoutMs: policy.timeoutMs, ...options }));
  const dense = model.tokenLogprobs?.bind(model);
  if (dense) guarded.tokenLogprobs = (texts, options = {}) => underPolicy(model, policy, options.signal, () => dense(texts, { timeoutMs: policy.timeoutMs, ...options }));
  const fidelity = model.fidelityStatistics?.bind(model);
  if (fidelity) guarded.fidelityStatistics = (base, texts, options = {}) => underPolicy(model, policy, options.signal, () => fidelity(base, texts, { timeoutMs: policy.timeoutMs, ...options }));
  if (Object.keys(guarded).length === 0) return model;
  return Object.assign(Object.create(model) as LanguageModel, guarded);
}
