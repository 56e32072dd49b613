import { setTimeout as sleep } from "node:timers/promises";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { RunLog } from "../../results/run-log.js";
import type { RunReporter } from "../reporter.js";
import type { RunStore } from "../store/types.js";
import type { WorkItem } from "../work-items.js";
import { lockSettings, PREFIX, RUNS_KEY, itemsQueue, jobId, redisOptions, resultsQueue, specKey } from "./connection.js";
import type { ItemJob, ResultJob, RunSpec } from "./messages.js";
import { manifestConfig } from "../../results/manifest.js";

/** Items added to Redis per call. */
const BATCH = 500;
/** Most items enqueued but not yet collected: Redis holds a window of the run, never all of it. */
const WINDOW = 20_000;

export interface QueueRunOptions {
  queueUrl: string;
  spec: RunSpec;
  store: RunStore;
  log: RunLog;
  reporter?: RunReporter;
  progress: { total: number; alreadyDone: number };
  stopSignal?: AbortSignal | undefined;
}

/**
 * The coordinator of a queued run: streams the run's items into its BullMQ queue (a window at a time),
 * collects the workers' rows into the local run store and returns once every item has a row. Returns
 * whether it was stopped first (the workers go on; `alignbench collect` gathers the rest).
 */
export async function processViaQueue(items: AsyncIterable<WorkItem>, options: QueueRunOptions): Promise<boolean> {
  const { runId } = options.spec;
  const connection = redisOptions(options.queueUrl);
  const redis = new Redis(connection);
  const queue = new Queue<ItemJob>(itemsQueue(runId), { connection, prefix: PREFIX });
  let enqueued = 0;
  const collector = startCollector(runId, options);
  try {
    // Redis holds the config as the manifest does: header values and URL credentials replaced (manifestConfig);
    // a worker that needs them takes them from its own --config file, keys from its own environment.
    await redis.set(specKey(runId), JSON.stringify({ ...options.spec, config: manifestConfig(options.spec.config as unknown as Record<string, unknown>) }));
    await redis.sadd(RUNS_KEY, runId);
    options.reporter?.onRunStart?.({ runId, total: options.progress.total, alreadyDone: options.progress.alreadyDone, folder: "" });
    let batch: WorkItem[] = [];
    const flush = async () => {
      await queue.addBulk(
        batch.map((item) => ({
          name: "item",
          data: toJob(item),
          opts: { jobId: jobId(item.key, item.attempt), removeOnComplete: true, removeOnFail: 1000, attempts: 5, backoff: { type: "exponential", delay: 1000 } },
        })),
      );
      enqueued += batch.length;
      batch = [];
    };
    for await (const item of items) {
      if (options.stopSignal?.aborted) break;
      batch.push(item);
      if (batch.length < BATCH) continue;
      await flush();
      while (enqueued - collector.collected() > WINDOW && !options.stopSignal?.aborted) await sleep(50);
    }
    if (batch.length > 0 && !options.stopSignal?.aborted) await flush();
    options.log.info("queue_enqueued", { run_id: runId, items: enqueued });
    return !(await drainAndForget(runId, connection, redis, options.stopSignal));
  } finally {
    await collector.close();
    await queue.close();
    redis.disconnect();
    options.reporter?.onRunEnd?.({ interrupted: Boolean(options.stopSignal?.aborted) });
  }
}

/**
 * Collects a queued run's rows again after its coordinator stopped (`alignbench collect`): until the run's
 * queues are empty, or the signal stops it. Returns whether it was stopped first.
 */
export async function collectQueued(runId: string, options: Omit<QueueRunOptions, "spec" | "progress"> & { progress: QueueRunOptions["progress"] }): Promise<boolean> {
  const connection = redisOptions(options.queueUrl);
  const redis = new Redis(connection);
  const collector = startCollector(runId, options);
  try {
    options.reporter?.onRunStart?.({ runId, total: options.progress.total, alreadyDone: options.progress.alreadyDone, folder: "" });
    return !(await drainAndForget(runId, connection, redis, options.stopSignal));
  } finally {
    await collector.close();
    redis.disconnect();
    options.reporter?.onRunEnd?.({ interrupted: Boolean(options.stopSignal?.aborted) });
  }
}

/** Waits until the run's queues are empty (or the signal stops it); then workers need its spec no more. Returns whether it drained. */
async function drainAndForget(runId: string, connection: ReturnType<typeof redisOptions>, redis: Redis, signal: AbortSignal | undefined): Promise<boolean> {
  const finished = await waitUntilDrained(runId, connection, signal);
  if (finished) {
    await redis.srem(RUNS_KEY, runId);
    await redis.del(specKey(runId));
  }
  return finished;
}

interface Collector {
  collected(): number;
  close(): Promise<void>;
}

/**
 * Appends the workers' rows to the store, each (key, attempt) once: delivery is at least once (a worker
 * killed after sending its row sends it again), so a row whose key already holds that attempt is dropped.
 * A result job completes only after its row is durable, so a coordinator killed in between sees it again.
 */
function startCollector(runId: string, options: Pick<QueueRunOptions, "queueUrl" | "store" | "log" | "reporter">): Collector {
  const connection = redisOptions(options.queueUrl);
  // This session's rows by key: two copies of one row may be in hand at once, before either is durable.
  const seen = new Map<string, number>();
  let collected = 0;
  const worker = new Worker<ResultJob>(
    resultsQueue(runId),
    async (job) => {
      const { row } = job.data;
      const known = Math.max(seen.get(row.key) ?? 0, (await options.store.lookup(row.key))?.attempts ?? 0);
      if (known >= row.attempt) {
        options.log.info("queue_duplicate", { key: row.key, attempt: row.attempt, worker: job.data.worker });
        return;
      }
      seen.set(row.key, row.attempt);
      await options.store.append(row);
      collected++;
      if (row.status === "error") options.log.warn("item_error", { key: row.key, error_type: row.error_type, error: row.error });
      options.reporter?.onItemEnd?.({ ok: row.status === "ok", errorType: row.error_type });
    },
    { connection, prefix: PREFIX, concurrency: 64, ...lockSettings() },
  );
  worker.on("error", (error) => options.log.warn("queue_error", { error: String(error) }));
  return { collected: () => collected, close: () => worker.close() };
}

/** Waits until the run's items and results queues are both empty (every item has been collected). */
async function waitUntilDrained(runId: string, connection: ReturnType<typeof redisOptions>, signal?: AbortSignal): Promise<boolean> {
  const items = new Queue(itemsQueue(runId), { connection, prefix: PREFIX });
  const results = new Queue(resultsQueue(runId), { connection, prefix: PREFIX });
  try {
    for (;;) {
      if (signal?.aborted) return false;
      const pending = await items.getJobCountByTypes("waiting", "active", "delayed", "prioritized", "waiting-children");
      const unread = await results.getJobCountByTypes("waiting", "active", "delayed", "prioritized");
      if (pending === 0 && unread === 0) return true;
      await sleep(100);
    }
  } finally {
    await items.close();
    await results.close();
  }
}

function toJob(item: WorkItem): ItemJob {
  const job: ItemJob = { key: item.key, dimensions: item.dimensions, sample: item.sample, persona: item.persona ?? null, target: item.target.address, attempt: item.attempt };
  if (item.previous) job.previous = item.previous;
  return job;
}
