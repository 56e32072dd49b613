import { setTimeout as sleep } from "node:timers/promises";

/** Time, for the limiter: the real clock in a run, a fake one in tests. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

/** Above this many requests per second only the spacing holds (the window's log would be too big to keep). */
const MAX_LOGGED = 100_000;
const WINDOW_MS = 1000;
/**
 * Kept free after each window for the time between a release and the request reaching the server (a busy
 * event loop, a new connection): measured at a server on a loaded machine, that delay bunched requests
 * by 20-30 ms, enough to put two more in a window. It costs 2.5% of the rate.
 */
export const JITTER_MS = 25;

/**
 * Requests at most `requestsPerSecond`, two ways. Spacing: each request has a slot 1/rps after the last
 * (a bucket of one token, so there is no burst at the start). A log of the last ceil(rps) release times:
 * a request also waits until the oldest of them is a second (and JITTER_MS) old, so no 1-second window,
 * whatever its start, sees more than ceil(rps) releases, even when timers fire late together (a busy event
 * loop) and slots would otherwise bunch up. Callers are served one at a time, in order of arrival.
 */
export class RateLimiter {
  private readonly intervalMs: number;
  /** Release times, a ring of the last `log.length` (empty: spacing only). */
  private readonly log: Float64Array;
  private logged = 0;
  private nextSlot = -Infinity;
  /** Resolves when the caller before the newest one has been released. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly requestsPerSecond: number,
    private readonly clock: LimiterClock = realClock,
  ) {
    this.intervalMs = 1000 / requestsPerSecond;
    const size = Math.ceil(requestsPerSecond);
    this.log = new Float64Array(size <= MAX_LOGGED ? size : 0);
  }

  /** Resolves when the caller may send one request; rejects (giving its turn up) if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const before = this.queue;
    let done!: () => void;
    this.queue = new Promise((resolve) => (done = resolve));
    try {
      await (signal ? untilAborted(before, signal) : before);
      await this.waitForTurn(signal);
    } finally {
      // An aborted caller hands its turn on only once the one before it is through, keeping the order.
      if (signal?.aborted) void before.then(done);
      else done();
    }
  }

  private async waitForTurn(signal?: AbortSignal): Promise<void> {
    let now = this.clock.now();
    const slot = Math.max(now, this.nextSlot);
    if (slot - now > 0.5) await this.clock.sleep(slot - now, signal);
    const size = this.log.length;
    if (size > 0 && this.logged >= size) {
      // The log is full: the oldest release must be a window old before this one goes.
      // A timer may fire a fraction of a millisecond early (libuv counts whole ones): check again on waking.
      const oldest = this.log[this.logged % size]!;
      const free = oldest + WINDOW_MS + JITTER_MS;
      while ((now = this.clock.now()) < free) await this.clock.sleep(free - now, signal);
    }
    now = this.clock.now();
    if (size > 0) this.log[this.logged++ % size] = now;
    // Slots follow the schedule, not the late wake-ups, so late timers cost no throughput (up to a second's
    // worth is caught up); the log keeps the catching up within the limit.
    this.nextSlot = Math.max(slot + this.intervalMs, now - WINDOW_MS);
  }
}

/** `promise`, or a rejection when `signal` aborts first. */
function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, reject);
  });
}
