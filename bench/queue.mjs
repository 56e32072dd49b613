#!/usr/bin/env node
// Throughput of queued runs, side by side in one script (not a timed test):
//   A. at 200 ms latency: 4 workers against 1 worker (items/s, the ratio; the issue asks >= 3.5x);
//   B. at 0 ms latency: the queue path with 1 worker against the local path (the issue asks >= 50%).
// Each item is a target call and a judge call to ../shared/bench/mock-llm.mjs. Redis: REDIS_URL, or a
// redis-server started here on a spare loopback port. Needs `npm run build`.
// Usage: node bench/queue.mjs [items_at_200ms=1600] [items_at_0ms=4000] [concurrency_per_worker=32]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [slowItems = 1600, fastItems = 4000, perWorker = 32] = process.argv.slice(2).map(Number);
const root = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(root, "bin/alignbench.js");
const MOCK = join(root, "../shared/bench/mock-llm.mjs");
const dir = mkdtempSync(join(tmpdir(), "ab-queue-bench-"));
const children = [];
process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));

function start(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return child;
}
function firstLine(child, pattern) {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) resolve(match);
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before ${pattern}: ${text}`)));
  });
}
async function mock(latencyMs) {
  const child = start(process.execPath, [MOCK], { MOCK_PORT: "0", MOCK_LATENCY_MS: String(latencyMs) });
  const [, url] = await firstLine(child, /listening (http:\/\/\S+)/);
  return { url: `${url}/v1`, child };
}
async function redis() {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const port = 20000 + Math.floor(Math.random() * 20000);
  start("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  for (let i = 0; i < 50; i++) {
    if (
      spawnSync("redis-cli", ["-p", String(port), "ping"])
        .stdout?.toString()
        .includes("PONG")
    )
      return `redis://127.0.0.1:${port}`;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error("redis-server did not start");
}
function dataset(name, count) {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, Array.from({ length: count }, (_, i) => JSON.stringify({ id: `t${i}`, prompt: `Question ${i}: how do I bake bread?` })).join("\n") + "\n");
  return file;
}
function run(args, env) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = start(process.execPath, [BIN, ...args], env);
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => resolve({ code, seconds: (performance.now() - started) / 1000, err }));
  });
}
/** Items/s over the whole command, and between the first and last row's completion (the calling phase). */
function rate(folder, seconds) {
  const rows = readFileSync(join(folder, "partials.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const ends = rows.map((row) => Date.parse(row.completed_at)).sort((a, b) => a - b);
  const calling = (ends.at(-1) - ends[0]) / 1000;
  return { items: rows.length, command: rows.length / seconds, calling: rows.length / Math.max(calling, 1e-3) };
}
async function queued(name, file, url, queue, workers) {
  const env = { OPENAI_BASE_URL: url };
  const pids = Array.from({ length: workers }, () => start(process.execPath, [BIN, "worker", "--queue", queue, "--concurrency", String(perWorker)], env));
  const result = await run(["run", "--dataset", file, "--models", "target", "--judge-model", "judge", "--run-id", name, "--output-dir", dir, "--no-progress", "--queue", queue], env);
  for (const pid of pids) pid.kill("SIGTERM");
  if (result.code !== 0) throw new Error(`${name}: exit ${result.code}\n${result.err}`);
  return rate(join(dir, name), result.seconds);
}
async function local(name, file, url) {
  const result = await run(["run", "--dataset", file, "--models", "target", "--judge-model", "judge", "--run-id", name, "--output-dir", dir, "--no-progress", "--concurrency", String(perWorker)], {
    OPENAI_BASE_URL: url,
  });
  if (result.code !== 0) throw new Error(`${name}: exit ${result.code}\n${result.err}`);
  return rate(join(dir, name), result.seconds);
}

const queue = await redis();
const slow = await mock(200);
const slowFile = dataset("slow", slowItems);
const one = await queued("slow-1", slowFile, slow.url, queue, 1);
const four = await queued("slow-4", slowFile, slow.url, queue, 4);
const fast = await mock(0);
const fastFile = dataset("fast", fastItems);
const alone = await local("fast-local", fastFile, fast.url);
const viaQueue = await queued("fast-queue", fastFile, fast.url, queue, 1);
const f = (value) => value.toFixed(1);
console.log(`200 ms latency, ${slowItems} items, ${perWorker} in flight per worker:`);
console.log(`  1 worker  ${f(one.command)} items/s (command), ${f(one.calling)} items/s (calling)`);
console.log(`  4 workers ${f(four.command)} items/s (command), ${f(four.calling)} items/s (calling)`);
console.log(`  ratio 4/1: ${(four.command / one.command).toFixed(2)}x (command), ${(four.calling / one.calling).toFixed(2)}x (calling)`);
console.log(`0 ms latency, ${fastItems} items, ${perWorker} in flight:`);
console.log(`  local ${f(alone.command)} items/s (command), ${f(alone.calling)} (calling)`);
console.log(`  queue, 1 worker ${f(viaQueue.command)} items/s (command), ${f(viaQueue.calling)} (calling)`);
console.log(`  queue / local: ${((100 * viaQueue.command) / alone.command).toFixed(0)}% (command), ${((100 * viaQueue.calling) / alone.calling).toFixed(0)}% (calling)`);
process.exit(0);
