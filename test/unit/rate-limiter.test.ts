import { describe, expect, it } from "vitest";
import { JITTER_MS, RateLimiter, type LimiterClock } from "../../src/runner/rate-limiter.js";
import { seededRandom } from "../../src/common/seeded-random.js";
import { maxInAnyWindow } from "../helpers/request-log.js";

/**
 * Simulated time: sleeps are timers on a fake timeline that fire at `fireAt(due)` (a busy event loop fires
 * them late), and the driver jumps from one timer to the next, so a minute of traffic takes milliseconds.
 */
class FakeClock implements LimiterClock {
  private time = 0;
  private timers: Array<{ at: number; fire: () => void }> = [];

  constructor(private readonly fireAt: (due: number) => number = (due) => due) {}

  now = () => this.time;

  sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const timer = { at: Math.max(this.time, this.fireAt(this.time + ms)), fire: resolve };
      this.timers.push(timer);
      signal?.addEventListener("abort", () => {
        this.timers = this.timers.filter((entry) => entry !== timer);
        reject(signal.reason);
      });
    });

  /** Runs until `done` settles: settle every promise that can, then fire the earliest timer. */
  async run<T>(done: Promise<T>): Promise<T> {
    let finished = false;
    const result = done.finally(() => (finished = true));
    while (!finished) {
      await new Promise((resolve) => setImmediate(resolve));
      if (finished || this.timers.length === 0) continue;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift()!;
      this.time = Math.max(this.time, next.at);
      next.fire();
    }
    return result;
  }
}

/** `workers` callers each sending `each` requests through the limiter, `busyMs` apart; returns release times. */
async function traffic(limiter: RateLimiter, clock: FakeClock, workers: number, each: number, busyMs = 1): Promise<number[]> {
  const releases: number[] = [];
  const worker = async () => {
    for (let index = 0; index < each; index++) {
      await limiter.acquire();
      releases.push(clock.now());
      await clock.sleep(busyMs);
    }
  };
  await clock.run(Promise.all(Array.from({ length: workers }, worker)));
  return releases;
}

/**
 * A loaded machine: the event loop stalls (up to 150 ms, every 400 ms or so); timers due during a stall all
 * fire when it ends, in a bunch, and others up to a millisecond late.
 */
function stalls(random: () => number): (due: number) => number {
  const blocked: Array<[number, number]> = [];
  for (let at = 0; at < 120_000; ) {
    const start = at + random() * 800;
    blocked.push([start, start + random() * 150]);
    at = blocked.at(-1)![1];
  }
  return (due) => blocked.find(([start, end]) => due >= start && due < end)?.[1] ?? due + random();
}

describe("the rate limiter", () => {
  it("spaces requests 1/rps apart with no burst at the start, at full rate", async () => {
    const clock = new FakeClock();
    const releases = await traffic(new RateLimiter(100, clock), clock, 32, 30);
    expect(releases).toHaveLength(960);
    expect(releases.slice(0, 4)).toEqual([0, 10, 20, 30]);
    expect(maxInAnyWindow(releases, 1000 + JITTER_MS)).toBe(100);
    // 960 requests at 100 a second, less the margin kept for jitter: 100 every 1.025 s.
    expect(releases.at(-1)).toBeCloseTo(9590 + 9 * JITTER_MS, 6);
  });

  it("never lets 1-second windows see more than the limit when timers fire late and bunch up", async () => {
    for (const [rps, seed] of [
      [100, 1],
      [100, 2],
      [7, 3],
      [2.5, 4],
    ] as const) {
      const random = seededRandom(seed);
      const clock = new FakeClock(stalls(random));
      const releases = await traffic(new RateLimiter(rps, clock), clock, 32, Math.ceil((rps * 10) / 32) + 2, random() * 5);
      expect(maxInAnyWindow(releases, 1000 + JITTER_MS), `${rps} rps, seed ${seed}`).toBeLessThanOrEqual(Math.ceil(rps));
      // Late timers cost little throughput: the schedule is kept, not restarted from each late wake-up.
      const rate = ((releases.length - 1) / (releases.at(-1)! - releases[0]!)) * 1000;
      expect(rate, `${rps} rps, seed ${seed}`).toBeGreaterThan(rps * 0.7);
    }
  });

  it("lets an aborted caller give its turn up without holding the others back", async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, clock);
    const order: string[] = [];
    const abort = new AbortController();
    const calls = [
      limiter.acquire().then(() => order.push(`a@${clock.now()}`)),
      limiter.acquire(abort.signal).then(
        () => order.push("b"),
        () => order.push(`b aborted@${clock.now()}`),
      ),
      limiter.acquire().then(() => order.push(`c@${clock.now()}`)),
    ];
    abort.abort();
    await clock.run(Promise.all(calls));
    expect(order).toEqual(["b aborted@0", "a@0", "c@100"]);
    await expect(limiter.acquire(abort.signal)).rejects.toThrow();
  });
});
