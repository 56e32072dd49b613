import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { DEFAULT_LOCAL_MODEL } from "../../src/runner/defaults.js";
import { runCli, type CliResult } from "../helpers/cli.js";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { isPreflightRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";

// Ctrl-C or SIGTERM before the first item (a download, the preflight) stops at once: exit 130, no run folder.

let mock: MockLlm | undefined;
let closeHub: (() => void) | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
  closeHub?.();
  closeHub = undefined;
});

/** Polls until the condition holds (the CLI is in the phase the test wants to interrupt). */
async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every file under a folder, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((path) => statSync(join(dir, path)).isFile());
}

/** Runs the CLI, sends `signal` once `ready` holds, and measures how long the process took to exit after it. */
async function interrupted(args: string[], env: NodeJS.ProcessEnv, signal: NodeJS.Signals, ready: (stderr: () => string) => boolean) {
  let child: ChildProcess | undefined;
  let stderr = "";
  const result = runCli(args, {
    env,
    onStart: (started) => {
      child = started;
      started.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    },
  });
  let sentAt = 0;
  const finished = result.then((value) => ({ ...value, afterSignalMs: sentAt ? Date.now() - sentAt : -1 }));
  await Promise.race([until(() => ready(() => stderr), `the CLI to reach the point to ${signal}`), finished]);
  sentAt = Date.now();
  child!.kill(signal);
  return finished as Promise<CliResult & { afterSignalMs: number }>;
}

describe.skipIf(!needs("llama"))("Ctrl-C during the default model's first download", () => {
  let model: Buffer;
  beforeAll(() => {
    const file = join(tempDir(), "tiny.gguf");
    writeRandomLlama(file, { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 300, seed: 11 });
    model = readFileSync(file);
  });

  it("exits 130 within a couple of seconds, leaves no run folder and no complete-looking file; the next run downloads and works", async () => {
    const [, owner, repo, ...path] = DEFAULT_LOCAL_MODEL.replace(/^llamacpp:hf:/, "/").split("/");
    const resolvePath = `/${owner}/${repo}/resolve/main/${path.join("/")}`;
    const sha = createHash("sha256").update(model).digest("hex");
    const requests: Array<{ method: string; range?: string }> = [];
    // A loopback hub: first a trickle of 64 bytes every 100 ms (a slow link), then at full speed; GET honours Range.
    let slow = true;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push({ method: req.method ?? "", ...(req.headers.range ? { range: String(req.headers.range) } : {}) });
      if (req.url !== resolvePath) return res.writeHead(404).end();
      if (req.method === "HEAD") return res.writeHead(200, { "x-linked-etag": sha, "x-linked-size": String(model.length) }).end();
      const start = req.headers.range ? Number(/bytes=(\d+)-/.exec(String(req.headers.range))![1]) : 0;
      const body = model.subarray(start);
      res.writeHead(start > 0 ? 206 : 200, { "content-length": String(body.length) });
      if (!slow) return res.end(body);
      let sent = 0;
      const trickle = setInterval(() => {
        res.write(body.subarray(sent, sent + 64));
        sent += 64;
      }, 100);
      res.on("close", () => clearInterval(trickle));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closeHub = () => server.close();
    const dir = tempDir();
    const cache = join(dir, "cache");
    const env = { HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ALIGNBENCH_MODEL_CACHE: cache, HF_HUB_CACHE: join(dir, "hf-hub") };
    const args = ["run", "--output-dir", join(dir, "results"), "--run-id", "first", "--max-tokens", "4", "--limit", "2", "--concurrency", "2"];

    const stopped = await interrupted(args, env, "SIGINT", () => filesUnder(cache).some((file) => file.endsWith(".part") && statSync(join(cache, file)).size > 0));
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.afterSignalMs).toBeLessThan(3000);
    expect(stopped.stderr).toContain("interrupted before the first item: no run folder was written");
    expect(stopped.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(join(dir, "results", "first"))).toBe(false);
    // Only the partial download is left: nothing under the model's own name, no checksum record.
    const left = filesUnder(cache);
    expect(left.length).toBe(1);
    expect(left[0]).toMatch(/\.gguf\.part$/);
    expect(statSync(join(cache, left[0]!)).size).toBeLessThan(model.length);

    slow = false;
    const gets = requests.filter((request) => request.method === "GET").length;
    const again = await runCli(args, { env });
    expect(again.code, again.stderr).toBe(0);
    // It downloaded again, picking up where the interrupted download stopped.
    const resumed = requests.filter((request) => request.method === "GET").slice(gets);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(readPartials(join(dir, "results", "first"))).toHaveLength(2);
    expect(filesUnder(cache).some((file) => file.endsWith(".part"))).toBe(false);
  });
});

describe("SIGTERM during the preflight", () => {
  it("exits 130 at once, not after the endpoint's answer, and writes no run folder", async () => {
    // The preflight's probe is never answered; items would be.
    mock = await startMockLlm((request) => (isPreflightRequest(request) ? { hang: true } : { reply: "ok" }));
    const dir = tempDir();
    const dataset = join(dir, "cases.jsonl");
    writeJsonl(dataset, [{ id: "a", prompt: "Hello" }]);
    const args = ["run", "--dataset", dataset, "--models", "target", "--base-url", mock.url, "--output-dir", dir, "--run-id", "r", "--no-progress"];
    const stopped = await interrupted(args, { OPENAI_API_KEY: "sk-test" }, "SIGTERM", () => mock!.requests.some(isPreflightRequest));
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.afterSignalMs).toBeLessThan(3000);
    expect(stopped.stderr.trim().split("\n").at(-1)).toMatch(/^interrupted before the first item: no run folder was written/);
    expect(existsSync(join(dir, "r"))).toBe(false);
    // A run started afterwards runs from the start.
    await mock.close();
    mock = await startMockLlm(() => ({ reply: "ok" }));
    const again = await runCli([...args.slice(0, 6), mock.url, ...args.slice(7)], { env: { OPENAI_API_KEY: "sk-test" } });
    expect(again.code, again.stderr).toBe(0);
    expect(readPartials(join(dir, "r"))).toHaveLength(1);
  });
});

describe("after the run has started", () => {
  it("the first signal finishes the items in flight; the second cancels them and says the next one quits at once", async () => {
    // Items hang, so the run is still going when the signals come.
    mock = await startMockLlm((request) => (isPreflightRequest(request) ? { reply: "OK" } : { hang: true }));
    const dir = tempDir();
    const dataset = join(dir, "cases.jsonl");
    writeJsonl(dataset, [
      { id: "a", prompt: "Hello" },
      { id: "b", prompt: "Hi" },
    ]);
    const args = ["run", "--dataset", dataset, "--models", "target", "--base-url", mock.url, "--output-dir", dir, "--run-id", "r", "--no-progress"];
    let child: ChildProcess | undefined;
    let stderr = "";
    const result = runCli(args, {
      env: { OPENAI_API_KEY: "sk-test" },
      onStart: (started) => {
        child = started;
        started.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      },
    });
    await until(() => mock!.requests.filter((request) => !isPreflightRequest(request)).length === 2, "both items in flight");
    child!.kill("SIGINT");
    await until(() => stderr.includes("stopping: finishing the items in flight"), "the first signal's message");
    child!.kill("SIGINT");
    const done = await result;
    expect(done.code, done.stderr).toBe(130);
    expect(done.stderr).toContain("cancelling the items in flight; they will run again on resume (Ctrl-C again quits at once");
    // The run folder was written and is resumable.
    expect(existsSync(join(dir, "r", "manifest.json"))).toBe(true);
  });
});
