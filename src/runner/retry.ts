import { setTimeout as sleep } from "node:timers/promises";
import { ProviderError } from "../providers/errors.js";

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Exponential backoff with full jitter, never shorter than the server's Retry-After. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

export interface RetryEvents {
  onRetry?(error: ProviderError, attempt: number, delayMs: number): void;
}

/** Runs `call` again on retryable provider errors (429, 5xx, timeouts, resets, broken bodies). */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy, events: RetryEvents = {}, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable || attempt >= policy.retries || signal?.aborted) throw error;
      const delay = backoffDelay(policy, attempt, error.retryAfterMs);
      events.onRetry?.(error, attempt + 1, delay);
      await sleep(delay, undefined, { signal }).catch(() => {
        throw new ProviderError("cancelled", "cancelled while waiting to retry");
      });
    }
  }
}
