/**
 * The most events in any window of `windowMs`, whatever its start: windows are half-open, [t, t + windowMs),
 * and the busiest one starts at an event, so checking each event's window is enough.
 */
export function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/**
 * Beats every millisecond on this process's event loop, to tell when a time stamped by the loop (a mock's
 * request arrival) may be late: a request stamped at `a` reached the socket after the last beat but one
 * before `a` (the loop polls for I/O between beats, so a request there before that poll is seen by it).
 */
export class LoopHeartbeat {
  private readonly beats: number[] = [];
  private readonly timer = setInterval(() => this.beats.push(performance.now()), 1);

  constructor() {
    this.beats.push(performance.now());
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The earliest time the event stamped at `at` can really have happened. */
  earliest(at: number): number {
    let low = 0;
    let high = this.beats.length; // beats[low..high) : first index with beats[i] >= at
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.beats[middle]! < at) low = middle + 1;
      else high = middle;
    }
    return this.beats[Math.max(0, low - 2)]!;
  }
}

/**
 * The most events that were certainly in one window of `windowMs`, given each happened somewhere in
 * [earliest, stamped]: an event counts for the window [t, t + windowMs) only if earliest >= t and
 * stamped < t + windowMs. Below the stamped count when the stamping loop stalled (events bunched), never
 * above the true count.
 */
export function maxCertainlyInAnyWindow(events: ReadonlyArray<{ earliest: number; stamped: number }>, windowMs: number): number {
  let most = 0;
  for (const { earliest: start } of events) {
    let count = 0;
    for (const event of events) if (event.earliest >= start && event.stamped < start + windowMs) count++;
    most = Math.max(most, count);
  }
  return most;
}
