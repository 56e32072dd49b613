import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { runConfigSchema } from "../../config/schema.js";
import { prepareRun, type PreparedRun } from "../prepare.js";
import { processItem } from "../process-item.js";
import type { WorkItem } from "../work-items.js";
import { lockSettings, PREFIX, RUNS_KEY, itemsQueue, jobId, redisOptions, resultsQueue, specKey, workersKey } from "./connection.js";
import type { ItemJob, ResultJob, RunSpec } from "./messages.js";
import { redactedSettings } from "../../results/manifest.js";
import { UserError } from "../../errors.js";
import { resolveRunConfig } from "../../config/load.js";
import { Redactor } from "../../results/redactor.js";

export interface WorkerOptions {
  queueUrl: string;
  /** Items in flight on this worker, over all runs. */
  concurrency: number;
  /** Model keys come from this worker's own environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * A config file whose providers:, base_url and perspective replace a queued run's: needed when the run had
   * header values or URL credentials, which never travel through Redis (they are replaced as in the manifest).
   */
  settingsFile?: string;
  /** Graceful stop: no new item; those in flight finish and are sent. */
  signal?: AbortSignal;
  onMessage?: (message: string) => void;
  onItem?: (runId: string, key: string, ok: boolean) => void;
  /** How often the list of runs is read (ms). */
  pollMs?: number;
}

interface Served {
  worker: Worker<ItemJob>;
  results: Queue<ResultJob>;
}

/**
 * A worker: serves every run listed in Redis, preparing each run's models once from the run's config
 * (with this machine's keys) and processing its items as the local runner does, sending each row back.
 */
export async function runWorker(options: WorkerOptions): Promise<{ items: number }> {
  const connection = redisOptions(options.queueUrl);
  const redis = new Redis(connection);
  const name = `${hostname()}:${process.pid}`;
  const served = new Map<string, Served>();
  let items = 0;
  try {
    while (!options.signal?.aborted) {
      const runs = new Set(await redis.smembers(RUNS_KEY));
      for (const runId of runs) {
        if (served.has(runId)) continue;
        const text = await redis.get(specKey(runId));
        if (!text) continue;
        const spec = JSON.parse(text) as RunSpec;
        options.onMessage?.(`serving run ${runId}`);
        served.set(
          runId,
          await serve(spec, connection, redis, name, options, (key, ok) => {
            items++;
            options.onItem?.(runId, key, ok);
          }),
        );
      }
      // A run no longer listed is finished: its worker stops.
      for (const [runId, entry] of served) {
        if (runs.has(runId)) continue;
        served.delete(runId);
        await closeServed(entry);
      }
      await sleep(options.pollMs ?? 1000, undefined, { signal: options.signal }).catch(() => undefined);
    }
  } finally {
    await Promise.all([...served.values()].map(closeServed));
    redis.disconnect();
  }
  return { items };
}

async function serve(spec: RunSpec, connection: ReturnType<typeof redisOptions>, redis: Redis, name: string, options: WorkerOptions, done: (key: string, ok: boolean) => void): Promise<Served> {
  // Personas travel with each item, so no personas file is read here.
  const config = runConfigSchema.parse({ ...spec.config, ...workerEndpoints(spec, options.settingsFile), personas: [], personas_file: undefined });
  let prepared: PreparedRun | undefined;
  let redactor: Redactor | undefined;
  const preparing = prepareRun(config, {}, options.env ?? process.env).then((value) => (prepared = value));
  const results = new Queue<ResultJob>(resultsQueue(spec.runId), { connection, prefix: PREFIX });
  const worker = new Worker<ItemJob>(
    itemsQueue(spec.runId),
    async (job) => {
      const stats = workersKey(spec.runId);
      // Counters for `alignbench status`: a job started more than once was taken from a worker that stalled or died.
      await redis
        .multi()
        .hsetnx(stats, `${name}|since`, String(Date.now()))
        .hincrby(stats, `${name}|in_flight`, 1)
        .hincrby(stats, `${name}|stalled`, job.attemptsStarted > 1 || job.stalledCounter > 0 ? 1 : 0)
        .exec();
      try {
        await processJob(job.data);
      } finally {
        await redis.hincrby(stats, `${name}|in_flight`, -1);
      }
    },
    { connection, prefix: PREFIX, concurrency: options.concurrency, name, ...lockSettings(options.env) },
  );
  async function processJob(data: ItemJob): Promise<void> {
    await preparing;
    const target = prepared!.models.find((model) => model.address === data.target);
    if (!target) throw new Error(`run ${spec.runId}: model ${data.target} is not among the run's models`);
    const item: WorkItem = { key: data.key, dimensions: data.dimensions, sample: data.sample, persona: data.persona ?? undefined, target, attempt: data.attempt };
    if (data.previous) item.previous = data.previous;
    const settings = { plan: prepared!.plan, roles: prepared!.roles, planOptions: config.plan_options, scorers: prepared!.scorers, services: prepared!.services };
    const found = await processItem(spec.runId, item, settings);
    if (!found) throw new Error(`item ${data.key} was cancelled`);
    // This worker's keys and credentials are scrubbed here: the row leaves the machine (Redis, the coordinator).
    const row = (redactor ??= new Redactor(prepared!.secrets)).scrubRow(found);
    // Sent before the item job completes: a worker killed in between sends it again (the coordinator drops the copy).
    await results.add("row", { row, worker: name }, { jobId: jobId(row.key, row.attempt), removeOnComplete: true });
    await redis.hincrby(workersKey(spec.runId), `${name}|${row.status === "ok" ? "done" : "failed"}`, 1);
    done(row.key, row.status === "ok");
  }
  worker.on("error", (error) => options.onMessage?.(`queue error: ${String(error)}`));
  return { worker, results };
}

async function closeServed(entry: Served): Promise<void> {
  await entry.worker.close();
  await entry.results.close();
}

/** The endpoints a worker calls: the queued run's, or its own config file's when the run's had secrets removed. */
function workerEndpoints(spec: RunSpec, settingsFile: string | undefined): Record<string, unknown> {
  if (settingsFile) {
    const given = resolveRunConfig(settingsFile, {});
    return { providers: given.providers, base_url: given.base_url, perspective: given.perspective };
  }
  const missing = redactedSettings(spec.config as unknown as Record<string, unknown>);
  if (missing.length > 0)
    throw new UserError(
      `run ${spec.runId} was configured with secrets that do not travel through Redis (${missing.join(", ")}): start the worker with --config FILE, a config file with the run's providers: (and base_url)`,
    );
  return {};
}
