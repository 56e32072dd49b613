import { describe, expect, it } from "vitest";
import { AimdLimiter } from "../../src/providers/endpoints/aimd.js";
import { affinityRank } from "../../src/providers/endpoints/affinity.js";

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Fills every slot, then answers them all with `latencyMs`, `rounds` times. */
function saturatedRounds(limiter: AimdLimiter, clock: ReturnType<typeof manualClock>, rounds: number, latencyMs: number): void {
  for (let round = 0; round < rounds; round++) {
    let taken = 0;
    while (limiter.tryAcquire()) taken++;
    clock.advance(latencyMs);
    for (let i = 0; i < taken; i++) limiter.onSuccess(latencyMs);
  }
}

describe("AIMD limiter", () => {
  it("adds 1/limit per saturated success: one slot per round of answers (hand-computed)", () => {
    const clock = manualClock();
    const changes: Array<[number, string]> = [];
    const limiter = new AimdLimiter({ max: 64, initial: 4, clock: clock.now, onChange: (limit, reason) => changes.push([limit, reason]) });
    // Round 1: 4 slots taken. The first answer finds 4 in flight = limit (saturated): 4 + 1/4 = 4.25; the
    // others find fewer in flight than the limit and add nothing. So one round adds 0.25 at first…
    saturatedRounds(limiter, clock, 1, 100);
    expect(limiter.limit).toBe(4);
    // …and each round with all slots refilled adds 1/limit once: 4.25 → 4.485 → 4.708 → 4.920 → 5.123.
    saturatedRounds(limiter, clock, 4, 100);
    expect(limiter.limit).toBe(5);
    expect(changes).toEqual([[5, "increase"]]);
  });

  it("halves on overload once per round trip, and never goes below 1 or above the cap", () => {
    const clock = manualClock();
    const limiter = new AimdLimiter({ max: 6, initial: 6, clock: clock.now });
    saturatedRounds(limiter, clock, 50, 100);
    expect(limiter.limit).toBe(6); // capped
    for (let i = 0; i < 6; i++) expect(limiter.tryAcquire()).toBe(true);
    // Six 429s in the same round trip: one cut, 6 → 3.
    for (let i = 0; i < 6; i++) limiter.onOverload();
    expect(limiter.limit).toBe(3);
    // Each later round trip with a refusal halves again: 3 → 1.5 → 1 (floor), never 0.
    for (let i = 0; i < 4; i++) {
      clock.advance(200);
      expect(limiter.tryAcquire()).toBe(true);
      limiter.onOverload();
    }
    expect(limiter.limit).toBe(1);
  });

  it("cuts when latency grows past twice the baseline although nothing was refused", () => {
    const clock = manualClock();
    const reasons: string[] = [];
    const limiter = new AimdLimiter({ max: 64, initial: 16, clock: clock.now, onChange: (_limit, reason) => reasons.push(reason) });
    saturatedRounds(limiter, clock, 2, 50);
    // Smoothed latency after answers of 250 ms (EWMA, alpha 0.2, from 50): 90, 122, 147.6 — the first above
    // 2 × 50 + 5 = 105 is the second: the limit is halved there (16.x → 8).
    for (let i = 0; i < 2; i++) expect(limiter.tryAcquire()).toBe(true);
    clock.advance(250);
    limiter.onSuccess(250);
    expect(limiter.limit).toBeGreaterThanOrEqual(16);
    limiter.onSuccess(250);
    expect(limiter.limit).toBe(8);
    expect(reasons.at(-1)).toBe("latency");
  });

  it("holds new requests for Retry-After", () => {
    const clock = manualClock();
    const limiter = new AimdLimiter({ max: 8, initial: 8, clock: clock.now });
    expect(limiter.tryAcquire()).toBe(true);
    limiter.onOverload(1500);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.pauseLeft()).toBe(1500);
    clock.advance(1499);
    expect(limiter.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(limiter.tryAcquire()).toBe(true);
  });
});

describe("prefix affinity (rendezvous hashing)", () => {
  const urls = ["http://a/v1", "http://b/v1", "http://c/v1"];
  it("prefers the same endpoint for the same prefix, and spreads different prefixes", () => {
    const first = affinityRank("System: be brief.\nQuestion 1", urls)[0];
    expect(affinityRank("System: be brief.\nQuestion 1", urls)[0]).toBe(first);
    const preferred = new Set(Array.from({ length: 60 }, (_, i) => affinityRank(`prompt ${i}`, urls)[0]));
    expect(preferred.size).toBe(3);
  });

  it("moves only the prefixes of a removed endpoint", () => {
    const prompts = Array.from({ length: 200 }, (_, i) => `prompt ${i}`);
    for (const prompt of prompts) {
      const all = affinityRank(prompt, urls).map((i) => urls[i]);
      const without = affinityRank(prompt, urls.slice(0, 2)).map((i) => urls[i]);
      // With c gone, each prompt's choice is its first preference that is still there.
      expect(without[0]).toBe(all.find((url) => url !== urls[2]));
    }
  });
});
