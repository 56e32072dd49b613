import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { PREFIX, redisOptions, resultsQueue } from "../../src/runner/queue/connection.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BIN, runCli } from "../helpers/cli.js";
import { judgedId, startMockLlm, verdict, type MockLlm } from "../helpers/mock-llm.js";
import { testRedisUrl } from "../helpers/redis.js";
import { needs } from "../helpers/requirements.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// Under CI=true a missing Redis fails here; elsewhere the group is skipped and the run's summary says why.
const REDIS = testRedisUrl();
const HAS_REDIS = needs("redis");

let mock: MockLlm;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  // Judge verdicts differ by item (every third unsafe), so the summary has something to agree on.
  mock = await startMockLlm(
    (request) => {
      if (!request.text.includes("Test item id:")) return { reply: `Answer to: ${request.text.slice(-20)}` };
      const id = judgedId(request);
      return { reply: verdict(id, Number(id.slice(1)) % 3 === 0) };
    },
    { latencyMs: 5 },
  );
});
afterAll(async () => {
  await mock?.close();
});
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    if (worker.exitCode === null && worker.signalCode === null) {
      worker.kill("SIGKILL");
      await new Promise((done) => worker.once("close", done));
    }
  }
});

function startWorker(concurrency: number, extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, "worker", "--queue", REDIS!, "--concurrency", String(concurrency)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OPENAI_BASE_URL: mock.url, ALIGNBENCH_QUEUE_LOCK_MS: "2000", ...extraEnv },
    stdio: ["ignore", "ignore", "ignore"],
  });
  workers.push(child);
  return child;
}

interface Row {
  key: string;
  status: string;
  attempt: number;
}

function partials(folder: string): Row[] {
  return readFileSync(join(folder, "partials.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Row);
}

/**
 * summary.json without what differs between two runs of one configuration by nature: the run id, latencies,
 * and the last bits of sums taken in another order (rows finish in any order, in one process as in many).
 */
function comparable(folder: string): unknown {
  const { run_id: _runId, ...rest } = JSON.parse(readFileSync(join(folder, "summary.json"), "utf8"), (key, value: unknown) =>
    /latency/.test(key) ? undefined : typeof value === "number" ? Number(value.toPrecision(12)) : value,
  ) as Record<string, unknown>;
  return rest;
}

describe.skipIf(!HAS_REDIS)("run --queue with workers (BullMQ on Redis)", () => {
  it("a worker's key never leaves it: an error that echoes the key reaches Redis and the run folder scrubbed", async () => {
    await new Redis(REDIS!).flushdb().then(() => undefined);
    const KEY = "sk-worker-only-secret-0123456789";
    const echo = await startMockLlm((request) => ({ status: 400, json: { error: { message: `bad header ${String(request.headers.authorization)}` } } }));
    try {
      const dir = tempDir();
      writeJsonl(join(dir, "cases.jsonl"), [
        { id: "a", prompt: "hello" },
        { id: "b", prompt: "again" },
      ]);
      startWorker(2, { OPENAI_BASE_URL: echo.url, OPENAI_API_KEY: KEY });
      // The run exits 3 (every item failed): its rows are what this test reads.
      await runCli(["run", "--dataset", join(dir, "cases.jsonl"), "--models", "target", "--scorers", "refusal_match", "--output-dir", dir, "--run-id", "keyed", "--queue", REDIS!, "--no-progress"], {
        env: { OPENAI_BASE_URL: echo.url },
      });
      const text = readFileSync(join(dir, "keyed", "partials.jsonl"), "utf8");
      expect(text).toContain("bad header Bearer");
      expect(text).not.toContain(KEY);
      expect(echo.requests.some((request) => request.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    } finally {
      await echo.close();
    }
  }, 120_000);

  it("gives the same keys and the same summary as a run on one machine, each key exactly once", async () => {
    await new Redis(REDIS!).flushdb().then(() => undefined);
    const ITEMS = 200;
    const dir = tempDir();
    writeJsonl(
      join(dir, "cases.jsonl"),
      Array.from({ length: ITEMS }, (_, index) => ({ id: `t${index}`, prompt: `Question ${index}` })),
    );
    const common = [
      "run",
      "--dataset",
      join(dir, "cases.jsonl"),
      "--models",
      "target",
      "--judge-model",
      "judge",
      "--personas",
      "evil_confidant",
      "--epochs",
      "2",
      "--output-dir",
      dir,
      "--no-progress",
    ];
    const env = { OPENAI_BASE_URL: mock.url };
    const local = await runCli([...common, "--run-id", "local"], { env });
    expect(local.code, local.stderr).toBe(0);

    startWorker(8);
    startWorker(8);
    const queued = await runCli([...common, "--run-id", "queued", "--queue", REDIS!], { env });
    expect(queued.code, queued.stderr).toBe(0);

    const localRows = partials(join(dir, "local"));
    const queuedRows = partials(join(dir, "queued"));
    expect(queuedRows).toHaveLength(ITEMS * 2);
    expect(new Set(queuedRows.map((row) => row.key)).size).toBe(ITEMS * 2);
    expect(queuedRows.map((row) => row.key).sort()).toEqual(localRows.map((row) => row.key).sort());
    expect(queuedRows.every((row) => row.status === "ok")).toBe(true);
    expect(comparable(join(dir, "queued"))).toEqual(comparable(join(dir, "local")));

    // Progress per worker: both took items, and between them every item once.
    const status = await runCli(["status", "queued", "--queue", REDIS!, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const shown = JSON.parse(status.stdout) as { listed: boolean; uncollected: number; stalled: number; workers: Array<{ done: number; failed: number; inFlight: number; connected: boolean }> };
    expect(shown.listed).toBe(false);
    expect(shown.uncollected).toBe(0);
    expect(shown.stalled).toBe(0);
    expect(shown.workers).toHaveLength(2);
    // Both took items; none is left in flight; once the run is collected the workers leave its queue.
    expect(shown.workers.every((worker) => worker.done > 0 && worker.inFlight === 0)).toBe(true);
    expect(shown.workers.reduce((sum, worker) => sum + worker.done + worker.failed, 0)).toBe(ITEMS * 2);
  }, 120_000);

  it("keeps every key exactly once when a worker is SIGKILLed mid-run and when the coordinator dies (collect)", async () => {
    await new Redis(REDIS!).flushdb().then(() => undefined);
    const ITEMS = 600;
    const dir = tempDir();
    writeJsonl(
      join(dir, "cases.jsonl"),
      Array.from({ length: ITEMS }, (_, index) => ({ id: `t${index}`, prompt: `Question ${index}` })),
    );
    const env = { OPENAI_BASE_URL: mock.url, ALIGNBENCH_QUEUE_LOCK_MS: "2000" };
    const victim = startWorker(16);
    startWorker(4);
    let coordinator: ChildProcess | undefined;
    const run = runCli(["run", "--dataset", join(dir, "cases.jsonl"), "--models", "target", "--judge-model", "judge", "--run-id", "chaos", "--output-dir", dir, "--no-progress", "--queue", REDIS!], {
      env,
      onStart: (child) => (coordinator = child),
    });
    // The worker dies holding items once rows arrive; then the coordinator dies while rows still arrive.
    const folder = join(dir, "chaos");
    const lines = () => (existsSync(join(folder, "partials.jsonl")) ? readFileSync(join(folder, "partials.jsonl"), "utf8").split("\n").length - 1 : 0);
    const watcher = setInterval(() => {
      const done = lines();
      if (done >= 40 && victim.exitCode === null && victim.signalCode === null) victim.kill("SIGKILL");
      if (done >= 150) coordinator?.kill("SIGKILL");
    }, 10);
    const first = await run;
    clearInterval(watcher);
    expect(victim.signalCode).toBe("SIGKILL");
    expect(first.signal).toBe("SIGKILL");
    // A copy of a row already collected, as a worker killed after sending it (before its job completed) would
    // send it again: the collector must drop it.
    const copy = partials(folder)[0]!;
    const results = new Queue(resultsQueue("chaos"), { connection: redisOptions(REDIS!), prefix: PREFIX });
    await results.add("row", { row: copy, worker: "test-duplicate" });
    await results.close();
    startWorker(8);
    const collected = await runCli(["collect", "chaos", "--queue", REDIS!, "--output-dir", dir], { env });
    expect(collected.code, collected.stderr + collected.stdout).toBe(0);
    const rows = partials(join(dir, "chaos"));
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(ITEMS);
    expect(rows.every((row) => row.status === "ok")).toBe(true);
    const log = readFileSync(join(folder, "run.log"), "utf8");
    expect(log).toContain('"event":"queue_duplicate"');
    expect(log).toContain('"worker":"test-duplicate"');
  }, 180_000);
});
