import { ProviderError } from "../errors.js";
import { redactUrl } from "../url.js";
import { AimdLimiter, DEFAULT_AIMD_MAX } from "./aimd.js";
import { affinityRank } from "./affinity.js";

/**
 * Many servers of one provider's models (`base_urls:`) as one: each call goes to the endpoint with the fewest
 * outstanding requests, preferring the one a prompt's prefix hashes to (its prefix cache is warm) while
 * that one is no more than AFFINITY_SLACK requests busier. An endpoint failing EJECT_AFTER times in a row
 * (connection refused, 5xx, timeout) is ejected for a cool-down; then one trial request at a time (the
 * health check) decides whether it returns or stays out for twice as long. A call that fails on one
 * endpoint that way is tried on the next healthy one before the caller's retries see it.
 */
export interface EndpointPoolOptions {
  /** `concurrency: auto`: an AIMD limit per endpoint, capped at `maxConcurrency`. */
  adaptive?: boolean;
  maxConcurrency?: number;
  ejectAfter?: number;
  cooldownMs?: number;
  clock?: () => number;
}

export type EndpointEvent =
  | { event: "endpoint_ejected"; endpoint: string; failures: number; cooldown_ms: number; error: string }
  | { event: "endpoint_restored"; endpoint: string; ejected_ms: number }
  | { event: "concurrency"; endpoint: string; limit: number; reason: string };

export interface EndpointStats {
  endpoint: string;
  requests: number;
  ok: number;
  errors: number;
  /** Calls that failed here and were sent on to another endpoint. */
  failovers: number;
  rate_limited: number;
  ejections: number;
  mean_latency_ms: number | null;
  max_outstanding: number;
  /** `concurrency: auto`: the limit at the end, and the highest it reached. */
  concurrency: number | null;
  max_concurrency_reached: number | null;
}

export const EJECT_AFTER = 3;
export const DEFAULT_COOLDOWN_MS = 10_000;
const MAX_COOLDOWN_MS = 300_000;
export const AFFINITY_SLACK = 2;

interface Endpoint {
  url: string;
  index: number;
  outstanding: number;
  failuresInRow: number;
  ejectedAt: number | null;
  returnAt: number;
  cooldownMs: number;
  trialInFlight: boolean;
  limiter?: AimdLimiter;
  stats: EndpointStats;
  latencyTotal: number;
}

const HEALTH_FAILURES = new Set(["connection", "server_error", "timeout", "bad_response"]);

export class EndpointPool {
  private readonly endpoints: Endpoint[];
  private readonly waiters: Array<() => void> = [];
  private readonly clock: () => number;
  /** Set by the run once its log is open. */
  onEvent: ((event: EndpointEvent) => void) | undefined;

  constructor(
    urls: readonly string[],
    private readonly options: EndpointPoolOptions = {},
  ) {
    this.clock = options.clock ?? (() => performance.now());
    this.endpoints = urls.map((url, index) => {
      const shown = redactUrl(url);
      const endpoint: Endpoint = {
        url: shown,
        index,
        outstanding: 0,
        failuresInRow: 0,
        ejectedAt: null,
        returnAt: 0,
        cooldownMs: options.cooldownMs ?? DEFAULT_COOLDOWN_MS,
        trialInFlight: false,
        latencyTotal: 0,
        stats: {
          endpoint: shown,
          requests: 0,
          ok: 0,
          errors: 0,
          failovers: 0,
          rate_limited: 0,
          ejections: 0,
          mean_latency_ms: null,
          max_outstanding: 0,
          concurrency: null,
          max_concurrency_reached: null,
        },
      };
      if (options.adaptive) {
        endpoint.limiter = new AimdLimiter({
          max: options.maxConcurrency ?? DEFAULT_AIMD_MAX,
          clock: this.clock,
          onChange: (limit, reason) => {
            endpoint.stats.max_concurrency_reached = Math.max(endpoint.stats.max_concurrency_reached ?? 0, limit);
            this.onEvent?.({ event: "concurrency", endpoint: shown, limit, reason });
          },
        });
        endpoint.stats.concurrency = endpoint.stats.max_concurrency_reached = endpoint.limiter.limit;
      }
      return endpoint;
    });
  }

  /**
   * Runs `call` with the index (in `urls`) of an endpoint chosen for `prefix`, failing over to the others on
   * endpoint failures. Every model of the provider calls through one pool: the servers' load is theirs together.
   */
  async call<T>(prefix: string, call: (index: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const tried = new Set<Endpoint>();
    for (;;) {
      const endpoint = await this.acquire(prefix, tried, signal);
      // Sent to an ejected endpoint: the trial request that decides its return.
      const trial = endpoint.ejectedAt !== null;
      tried.add(endpoint);
      const started = this.clock();
      try {
        const result = await call(endpoint.index);
        this.succeeded(endpoint, this.clock() - started, trial);
        return result;
      } catch (error) {
        const healthFailure = this.failed(endpoint, error, trial);
        const others = this.endpoints.some((other) => !tried.has(other) && this.usable(other));
        if (!healthFailure || !others || signal?.aborted) throw error;
        endpoint.stats.failovers++;
      } finally {
        this.wake();
      }
    }
  }

  stats(): EndpointStats[] {
    return this.endpoints.map((endpoint) => ({ ...endpoint.stats, concurrency: endpoint.limiter?.limit ?? null }));
  }

  /** Waits for an endpoint with a free slot (fewest outstanding, prefix affinity) and takes the slot. */
  private async acquire(prefix: string, tried: Set<Endpoint>, signal?: AbortSignal): Promise<Endpoint> {
    for (;;) {
      signal?.throwIfAborted();
      const chosen = this.choose(prefix, tried);
      if (chosen) {
        chosen.outstanding++;
        chosen.stats.requests++;
        chosen.stats.max_outstanding = Math.max(chosen.stats.max_outstanding, chosen.outstanding);
        if (chosen.ejectedAt !== null) chosen.trialInFlight = true;
        return chosen;
      }
      await this.waitForChange(signal);
    }
  }

  private choose(prefix: string, tried: Set<Endpoint>): Endpoint | undefined {
    let candidates = this.endpoints.filter((endpoint) => !tried.has(endpoint) && this.usable(endpoint));
    // Every endpoint ejected: the one due back first takes the call now rather than failing the run.
    if (candidates.length === 0 && !this.endpoints.some((endpoint) => this.usable(endpoint) || endpoint.trialInFlight)) {
      const untried = this.endpoints.filter((endpoint) => !tried.has(endpoint));
      candidates = untried.sort((a, b) => a.returnAt - b.returnAt).slice(0, 1);
    }
    const free = candidates.filter((endpoint) => !endpoint.limiter || endpoint.limiter.hasRoom());
    if (free.length === 0) return undefined;
    const least = Math.min(...free.map(load));
    const ranked = affinityRank(
      prefix,
      free.map((endpoint) => endpoint.url),
    );
    const chosen = ranked.map((index) => free[index]!).find((endpoint) => load(endpoint) <= least + AFFINITY_SLACK)!;
    if (chosen.limiter && !chosen.limiter.tryAcquire()) return undefined;
    return chosen;
  }

  /** Healthy, or ejected with its cool-down over and no trial request out yet. */
  private usable(endpoint: Endpoint): boolean {
    if (endpoint.ejectedAt === null) return true;
    return !endpoint.trialInFlight && this.clock() >= endpoint.returnAt;
  }

  private succeeded(endpoint: Endpoint, latencyMs: number, trial: boolean): void {
    endpoint.outstanding--;
    endpoint.limiter?.onSuccess(latencyMs);
    endpoint.stats.ok++;
    endpoint.latencyTotal += latencyMs;
    endpoint.stats.mean_latency_ms = endpoint.latencyTotal / endpoint.stats.ok;
    endpoint.failuresInRow = 0;
    if (trial && endpoint.ejectedAt !== null) {
      this.onEvent?.({ event: "endpoint_restored", endpoint: endpoint.url, ejected_ms: Math.round(this.clock() - endpoint.ejectedAt) });
      endpoint.ejectedAt = null;
      endpoint.trialInFlight = false;
      endpoint.cooldownMs = this.options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    }
  }

  /** Books a failure; true when it says the endpoint is unwell (another endpoint may answer). */
  private failed(endpoint: Endpoint, error: unknown, trial: boolean): boolean {
    endpoint.outstanding--;
    endpoint.stats.errors++;
    const type = error instanceof ProviderError ? error.type : "unknown";
    const overload = type === "rate_limited" || (error instanceof ProviderError && error.status === 503);
    if (overload) endpoint.stats.rate_limited += type === "rate_limited" ? 1 : 0;
    if (endpoint.limiter) {
      if (overload) endpoint.limiter.onOverload((error as ProviderError).retryAfterMs);
      else endpoint.limiter.onOtherFailure();
    }
    if (type === "rate_limited" || !HEALTH_FAILURES.has(type)) {
      // A trial answered with a refusal says nothing of health: the next call may try again.
      if (trial) endpoint.trialInFlight = false;
      return false;
    }
    endpoint.failuresInRow++;
    // Calls sent before the ejection that fail now change nothing: it is already out.
    if (endpoint.ejectedAt !== null && !trial) return true;
    if (trial || endpoint.failuresInRow >= (this.options.ejectAfter ?? EJECT_AFTER)) {
      // A failed trial keeps it out twice as long; a first ejection starts the cool-down.
      if (trial) endpoint.cooldownMs = Math.min(MAX_COOLDOWN_MS, endpoint.cooldownMs * 2);
      else endpoint.stats.ejections++;
      endpoint.ejectedAt ??= this.clock();
      endpoint.trialInFlight = false;
      endpoint.returnAt = this.clock() + endpoint.cooldownMs;
      this.onEvent?.({
        event: "endpoint_ejected",
        endpoint: endpoint.url,
        failures: endpoint.failuresInRow,
        cooldown_ms: endpoint.cooldownMs,
        error: (error as Error).message?.slice(0, 200) ?? String(error),
      });
    }
    return true;
  }

  private waitForChange(signal?: AbortSignal): Promise<void> {
    // Woken by any finished call, or after a short while (a cool-down or a Retry-After pause ending).
    const pauses = this.endpoints.map((endpoint) => endpoint.limiter?.pauseLeft() ?? 0).filter((left) => left > 0);
    const timeout = Math.max(1, Math.min(50, ...pauses));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(done, timeout);
      this.waiters.push(done);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** How busy an endpoint is: outstanding requests, relative to its limit under `concurrency: auto`. */
function load(endpoint: Endpoint): number {
  return endpoint.limiter ? endpoint.outstanding / endpoint.limiter.limit : endpoint.outstanding;
}
