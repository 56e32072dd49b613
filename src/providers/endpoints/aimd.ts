/**
 * Adaptive concurrency for one endpoint (`concurrency: auto`): AIMD, the rule TCP uses for its congestion
 * window. Each success while the endpoint was saturated and latency stays flat adds 1/limit (about one more
 * slot per round of `limit` answers); a 429 / 503 / overload, or latency grown past LATENCY_GROWTH × the
 * fastest recent answers, halves the limit, at most once per smoothed round trip, so one burst of refusals
 * counts once. The limit never goes above `max` nor below 1. Retry-After pauses new requests until it ends.
 */
export interface AimdOptions {
  /** The ceiling (the provider's max_concurrency; DEFAULT_AIMD_MAX when none is set). */
  max: number;
  initial?: number;
  clock?: () => number;
  /** Told whenever the whole-number limit changes: the run log keeps these as the concurrency over time. */
  onChange?: (limit: number, reason: AimdReason) => void;
}

export type AimdReason = "increase" | "overload" | "latency";

export const DEFAULT_AIMD_MAX = 64;
export const DEFAULT_AIMD_INITIAL = 4;
/** Latency counts as grown when the smoothed latency passes this multiple of the baseline. */
export const LATENCY_GROWTH = 2;
export const DECREASE_FACTOR = 0.5;
/** Successes after which the baseline (the fastest latency seen) is re-measured: servers change. */
const BASELINE_WINDOW = 200;
const EWMA_ALPHA = 0.2;

export class AimdLimiter {
  private current: number;
  private inFlight = 0;
  private pausedUntil = 0;
  private lastDecrease = -Infinity;
  private baseline = Infinity;
  private nextBaseline = Infinity;
  private samples = 0;
  private smoothed: number | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: AimdOptions) {
    this.clock = options.clock ?? (() => performance.now());
    this.current = Math.max(1, Math.min(options.max, options.initial ?? DEFAULT_AIMD_INITIAL));
  }

  /** Whole slots allowed now. */
  get limit(): number {
    return Math.floor(this.current);
  }

  get outstanding(): number {
    return this.inFlight;
  }

  /** Milliseconds left of a Retry-After pause (0 when none). */
  pauseLeft(): number {
    return Math.max(0, this.pausedUntil - this.clock());
  }

  /** Whether a slot is free and no Retry-After pause holds (takes nothing). */
  hasRoom(): boolean {
    return this.inFlight < this.limit && this.pauseLeft() <= 0;
  }

  /** Takes a slot when one is free and no Retry-After pause holds; false otherwise (the caller waits). */
  tryAcquire(): boolean {
    if (this.inFlight >= this.limit || this.pauseLeft() > 0) return false;
    this.inFlight++;
    return true;
  }

  /** A slot given back after an answer of `latencyMs`. */
  onSuccess(latencyMs: number): void {
    const saturated = this.inFlight >= this.limit;
    this.inFlight--;
    this.samples++;
    this.nextBaseline = Math.min(this.nextBaseline, latencyMs);
    this.baseline = Math.min(this.baseline, latencyMs);
    if (this.samples % BASELINE_WINDOW === 0) {
      this.baseline = this.nextBaseline;
      this.nextBaseline = Infinity;
    }
    this.smoothed = this.smoothed === undefined ? latencyMs : this.smoothed + EWMA_ALPHA * (latencyMs - this.smoothed);
    // A few milliseconds of slack: at near-zero latencies timer noise alone doubles the ratio.
    if (this.smoothed > LATENCY_GROWTH * this.baseline + 5) this.decrease("latency");
    else if (saturated) this.set(Math.min(this.options.max, this.current + 1 / this.current), "increase");
  }

  /** A slot given back after a 429 / 503 / overload answer; `retryAfterMs` pauses the endpoint. */
  onOverload(retryAfterMs?: number): void {
    this.inFlight--;
    if (retryAfterMs !== undefined && retryAfterMs > 0) this.pausedUntil = Math.max(this.pausedUntil, this.clock() + retryAfterMs);
    this.decrease("overload");
  }

  /** A slot given back after any other failure (a reset, a 400): says nothing about load. */
  onOtherFailure(): void {
    this.inFlight--;
  }

  private decrease(reason: AimdReason): void {
    const now = this.clock();
    // Answers already in flight when the limit was cut report the old load: one cut per round trip.
    if (now - this.lastDecrease < (this.smoothed ?? 0)) return;
    this.lastDecrease = now;
    this.set(Math.max(1, this.current * DECREASE_FACTOR), reason);
  }

  private set(value: number, reason: AimdReason): void {
    const before = this.limit;
    this.current = value;
    if (this.limit !== before) this.options.onChange?.(this.limit, reason);
  }
}
