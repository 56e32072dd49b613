import { setTimeout as sleep } from "node:timers/promises";

/**
 * A token bucket holding one token: requests are spaced exactly 1/rps apart, so the measured rate over
 * any window matches the limit (a deeper bucket would let a burst exceed it at the start).
 */
export class RateLimiter {
  private nextSlot = 0;
  private readonly intervalMs: number;

  constructor(readonly requestsPerSecond: number) {
    this.intervalMs = 1000 / requestsPerSecond;
  }

  /** Resolves when the caller may send one request. */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    const wait = slot - now;
    if (wait > 0.5) await sleep(wait, undefined, { signal });
  }
}
