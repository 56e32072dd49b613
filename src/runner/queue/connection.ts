import { createHash } from "node:crypto";
import { UserError } from "../../errors.js";

/**
 * Names in Redis. Each run has its own queue of items and its own queue of results, so a run's progress
 * and its end are the counts of its two queues; the set RUNS_KEY lists the runs workers should serve.
 */
export const RUNS_KEY = "alignbench:runs";
export const itemsQueue = (runId: string) => `alignbench-items-${runId}`;
export const resultsQueue = (runId: string) => `alignbench-results-${runId}`;
export const specKey = (runId: string) => `alignbench:run:${runId}:spec`;
export const PREFIX = "alignbench";
/** A hash of per-worker counters of a run: `<worker>|done`, `|failed`, `|in_flight`, `|stalled`, `|since`. */
export const workersKey = (runId: string) => `alignbench:run:${runId}:workers`;

/** A job id per key (and attempt): adding the same one twice is a no-op in BullMQ, so a re-enqueue is safe. */
export function jobId(key: string, attempt: number): string {
  return `${createHash("sha1").update(key).digest("hex")}-${attempt}`;
}

/** ioredis options from a redis:// URL; BullMQ workers need `maxRetriesPerRequest: null` (blocking calls). */
export function redisOptions(url: string): { host: string; port: number; username?: string; password?: string; db?: number; maxRetriesPerRequest: null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--queue ${url}: not a URL (expected redis://host:6379)`);
  }
  if (parsed.protocol !== "redis:") throw new UserError(`--queue ${url}: expected a redis:// URL`);
  const options: ReturnType<typeof redisOptions> = { host: parsed.hostname || "127.0.0.1", port: Number(parsed.port || 6379), maxRetriesPerRequest: null };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, "");
  if (db) options.db = Number(db);
  return options;
}

/**
 * How long a job's lock lasts without renewal (BullMQ renews it at half that while the job runs), and how
 * often stalled jobs are looked for: a killed worker's items run again elsewhere after about this long.
 * 30 s by default (BullMQ's); ALIGNBENCH_QUEUE_LOCK_MS shortens it (tests).
 */
export function lockSettings(env: NodeJS.ProcessEnv = process.env): { lockDuration: number; stalledInterval: number } {
  const ms = Number(env.ALIGNBENCH_QUEUE_LOCK_MS);
  const lock = Number.isFinite(ms) && ms >= 1000 ? ms : 30_000;
  return { lockDuration: lock, stalledInterval: lock };
}
