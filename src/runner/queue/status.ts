import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { PREFIX, RUNS_KEY, itemsQueue, redisOptions, resultsQueue, workersKey } from "./connection.js";

export interface WorkerProgress {
  worker: string;
  done: number;
  failed: number;
  inFlight: number;
  /** Items this worker took that another worker had held (it stalled or died). */
  redelivered: number;
  itemsPerSecond: number;
  /** Connected to the run's queue now; a worker gone with items in flight has them re-queued once their locks lapse. */
  connected: boolean;
}

export interface QueueStatus {
  runId: string;
  /** Still listed for workers (false once the coordinator collected every row). */
  listed: boolean;
  items: { waiting: number; active: number; delayed: number; failed: number };
  /** Rows sent back and not yet collected into the run folder (the coordinator is not running, or behind). */
  uncollected: number;
  /** Active jobs whose lock lapsed: their worker stalled or died (re-queued at the next stall check). */
  stalled: number;
  workers: WorkerProgress[];
}

/** A queued run's progress per worker and its stalled jobs, read from Redis. */
export async function queueStatus(runId: string, queueUrl: string, now = Date.now()): Promise<QueueStatus> {
  const connection = redisOptions(queueUrl);
  const redis = new Redis(connection);
  const items = new Queue(itemsQueue(runId), { connection, prefix: PREFIX });
  const results = new Queue(resultsQueue(runId), { connection, prefix: PREFIX });
  try {
    const counts = await items.getJobCounts("waiting", "active", "delayed", "failed", "prioritized");
    const uncollected = await results.getJobCountByTypes("waiting", "active", "delayed", "prioritized");
    const connected = new Set((await items.getWorkers()).map((client) => client.rawname ?? client.name ?? ""));
    // An active job holds a lock key while its worker lives; one without is stalled.
    let stalled = 0;
    for (const job of await items.getActive(0, 999)) if (!(await redis.exists(`${PREFIX}:${itemsQueue(runId)}:${job.id}:lock`))) stalled++;
    const fields = await redis.hgetall(workersKey(runId));
    const byWorker = new Map<string, Record<string, number>>();
    for (const [field, value] of Object.entries(fields)) {
      const cut = field.lastIndexOf("|");
      const worker = field.slice(0, cut);
      const entry = byWorker.get(worker) ?? {};
      entry[field.slice(cut + 1)] = Number(value);
      byWorker.set(worker, entry);
    }
    const workers = [...byWorker].map(([worker, entry]): WorkerProgress => {
      const seconds = Math.max(1, (now - (entry.since ?? now)) / 1000);
      const done = entry.done ?? 0;
      const failed = entry.failed ?? 0;
      return {
        worker,
        done,
        failed,
        inFlight: Math.max(0, entry.in_flight ?? 0),
        redelivered: entry.stalled ?? 0,
        itemsPerSecond: (done + failed) / seconds,
        connected: [...connected].some((name) => name.includes(worker)),
      };
    });
    return {
      runId,
      listed: (await redis.sismember(RUNS_KEY, runId)) === 1,
      items: { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
      uncollected,
      stalled,
      workers: workers.sort((a, b) => a.worker.localeCompare(b.worker)),
    };
  } finally {
    await items.close();
    await results.close();
    redis.disconnect();
  }
}
