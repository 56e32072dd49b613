#!/usr/bin/env node
// Chaos check of queued runs (not a timed test): a run on W workers against the shared mock with injected
// faults, during which random workers are SIGKILLed (and restarted) K times and the coordinator C times
// (restarted with the same `run --queue` command). At the end every key must be in the run folder exactly
// once (a result or a recorded error), and the key set must equal a one-machine run's.
// Usage: node bench/chaos.mjs [items=20000] [workers=4] [worker_kills=20] [coordinator_kills=3] [fault_rate=0.3]
// Redis: REDIS_URL, or a redis-server started here. Needs `npm run build`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [items = 20000, workerCount = 4, workerKills = 20, coordinatorKills = 3, faultRate = 0.3] = process.argv.slice(2).map(Number);
const root = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(root, "bin/alignbench.js");
const dir = mkdtempSync(join(tmpdir(), "ab-chaos-"));
const children = new Set();
process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The alignbench CLI with `args`, or another `command`. */
function start(args, env = {}, command) {
  const child = spawn(command ?? process.execPath, command ? args : [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}
const queue =
  process.env.REDIS_URL ??
  (await (async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    start(["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {}, "redis-server");
    for (
      let i = 0;
      i < 50 &&
      !spawnSync("redis-cli", ["-p", String(port), "ping"])
        .stdout?.toString()
        .includes("PONG");
      i++
    )
      await sleep(100);
    return `redis://127.0.0.1:${port}`;
  })());
// Faults of every kind but hangs (a hang only costs the timeout): 429, 500, 503, resets, broken JSON, broken verdicts.
const mock = start(
  [join(root, "../shared/bench/mock-llm.mjs")],
  { MOCK_PORT: "0", MOCK_LATENCY_MS: "5", MOCK_FAULT_RATE: String(faultRate), MOCK_FAULTS: "429,500,503,reset,badjson,badjudge" },
  process.execPath,
);
const url = await new Promise((resolve) => {
  let text = "";
  mock.stdout.on("data", (chunk) => {
    text += chunk;
    const match = /listening (http:\/\/\S+)/.exec(text);
    if (match) resolve(`${match[1]}/v1`);
  });
});
const env = { OPENAI_BASE_URL: url, ALIGNBENCH_QUEUE_LOCK_MS: "3000" };
const file = join(dir, "cases.jsonl");
writeFileSync(file, Array.from({ length: items }, (_, i) => JSON.stringify({ id: `t${i}`, prompt: `Question ${i}: how do I bake bread?` })).join("\n") + "\n");
const args = (runId, extra = []) => ["run", "--dataset", file, "--models", "target", "--judge-model", "judge", "--run-id", runId, "--output-dir", dir, "--no-progress", "--retries", "3", ...extra];
const finished = (child) => new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
const rowsOf = (runId) => {
  const path = join(dir, runId, "partials.jsonl");
  return existsSync(path)
    ? readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    : [];
};
/** Complete lines so far, read while the coordinator writes (the last one may be half written). */
const linesOf = (runId) => {
  const path = join(dir, runId, "partials.jsonl");
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
};
// A run id of its own: a Redis kept between runs of this script may still hold an older run's jobs.
const QUEUED = `queued-${Date.now()}`;

const started = performance.now();
const one = await finished(start(args("one-machine", ["--concurrency", "32"]), env));
console.log(`one machine: exit ${one.code} in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const workers = Array.from({ length: workerCount }, () => start(["worker", "--queue", queue, "--concurrency", "16"], env));
let killsLeft = workerKills;
const killer = setInterval(() => {
  if (killsLeft <= 0) return;
  const index = Math.floor(Math.random() * workers.length);
  workers[index].kill("SIGKILL");
  workers[index] = start(["worker", "--queue", queue, "--concurrency", "16"], env);
  killsLeft--;
}, 700);
const queuedStart = performance.now();
let outcome;
for (let kill = 0; ; kill++) {
  const coordinator = start(args(QUEUED, ["--queue", queue]), env);
  if (kill < coordinatorKills) {
    // Killed once rows are arriving, a little further into the run each time.
    const target = Math.floor(((kill + 1) * items) / (coordinatorKills + 2));
    while (coordinator.exitCode === null && linesOf(QUEUED) < target) await sleep(50);
    coordinator.kill("SIGKILL");
    await finished(coordinator);
    console.log(`coordinator SIGKILLed at ${linesOf(QUEUED)} rows`);
    continue;
  }
  outcome = await finished(coordinator);
  break;
}
clearInterval(killer);
const seconds = (performance.now() - queuedStart) / 1000;
const rows = rowsOf(QUEUED);
const latest = new Map();
for (const row of rows) latest.set(row.key, row);
const reference = new Set(rowsOf("one-machine").map((row) => row.key));
const attempts = new Set(rows.map((row) => `${row.key}#${row.attempt}`));
const doubled = rows.length - attempts.size;
const sameKeys = latest.size === reference.size && [...latest.keys()].every((key) => reference.has(key));
const errors = [...latest.values()].filter((row) => row.status === "error").length;
const duplicatesDropped = (readFileSync(join(dir, QUEUED, "run.log"), "utf8").match(/"event":"queue_duplicate"/g) ?? []).length;
console.log(`queued: exit ${outcome.code} in ${seconds.toFixed(1)} s; ${workerKills - killsLeft} worker SIGKILLs, ${coordinatorKills} coordinator SIGKILLs`);
console.log(
  `keys: ${latest.size} of ${items} (one machine: ${reference.size}); same key set: ${sameKeys}; rows ${rows.length} (a failed key tried again after a restart adds a row of its next attempt); the same attempt twice: ${doubled}; recorded errors ${errors}; copies dropped by the collector: ${duplicatesDropped}`,
);
process.exit(sameKeys && latest.size === items && doubled === 0 ? 0 : 1);
