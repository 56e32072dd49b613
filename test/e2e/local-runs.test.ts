import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import type { ProviderError } from "../../src/providers/errors.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { runCli } from "../helpers/cli.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { needs } from "../helpers/requirements.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// A new user's first run: a tiny local model (stories260K, from ../shared) on the built-in mini suite. Such a
// model rarely emits an end token, so these runs end only through max_tokens, the timeout or a signal.
const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const MODEL = `llamacpp:${STORIES}`;
const hasLibrary = needs("llama", "shared");

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0);
const manifestOf = (folder: string) => JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));

/** Sends `signals` SIGTERMs, `gapMs` apart, once `ready()` holds. */
function signalWhen(ready: () => boolean, signals: number, gapMs = 300): (child: ChildProcess) => void {
  return (child) => {
    const timer = setInterval(() => {
      if (!ready()) return;
      clearInterval(timer);
      for (let i = 0; i < signals; i++) setTimeout(() => child.kill("SIGTERM"), i * gapMs);
    }, 20);
    child.on("close", () => clearInterval(timer));
  };
}

afterAll(() => disposeLocalModels());

describe.skipIf(!hasLibrary)("local generations can be stopped", () => {
  it("by their timeout, and by cancelling, whether generating or waiting for a free sequence", async () => {
    const model = new ModelRegistry({ env: {}, providers: { llamacpp: { threads: 1, gpu: false, sequences: 1 } } }).resolve(MODEL).model;
    // max_tokens far past the context: with context shifting, these generations would never end on their own.
    const endless = (signal: AbortSignal | undefined, timeoutMs: number) =>
      model.generate({ messages: [{ role: "user", content: "Once upon a time" }], options: { max_tokens: 100_000 }, timeoutMs, ...(signal ? { signal } : {}) });
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error as ProviderError,
      );

    const timedOut = await failure(endless(undefined, 300));
    expect(timedOut).toMatchObject({ type: "timeout", message: expect.stringContaining("no answer within 300 ms") });

    const first = new AbortController();
    const second = new AbortController();
    const running = failure(endless(first.signal, 600_000));
    const waiting = failure(endless(second.signal, 600_000)); // the only sequence is busy: it waits for it
    await new Promise((resolve) => setTimeout(resolve, 300));
    second.abort();
    expect(await waiting).toMatchObject({ type: "cancelled" });
    first.abort();
    expect(await running).toMatchObject({ type: "cancelled" });
    await model.dispose?.();
  }, 60_000);
});

describe.skipIf(!hasLibrary)("local-model runs always end", () => {
  const base = (dir: string, runId: string) => ["run", "--models", MODEL, "--output-dir", dir, "--run-id", runId, "--limit", "6", "--concurrency", "2", "--no-progress"];

  it("stops each generation at --timeout, even one that would never end, and records timeout errors (exit 3)", async () => {
    const dir = tempDir();
    const started = performance.now();
    // max_tokens far past the context: without the timeout reaching llama.cpp, these generations never end.
    const result = await runCli([...base(dir, "t"), "--timeout", "0.5", "--retries", "0", "--max-tokens", "100000"]);
    expect(result.code, result.stderr).toBe(3);
    expect(performance.now() - started).toBeLessThan(60_000);
    const rows = readPartials(join(dir, "t"));
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row).toMatchObject({ status: "error", error_type: "timeout", error: expect.stringContaining("no answer within 500 ms") });
    expect(result.stdout).toContain("6 items failed:\n  timeout × 6\n");
  }, 90_000);

  it("uses max_tokens 512 when none is given, and records it; one SIGTERM finishes the items in flight, exits 130, and the run resumes", async () => {
    const dir = tempDir();
    const folder = join(dir, "s");
    const partials = join(folder, "partials.jsonl");
    const stopped = await runCli(base(dir, "s"), { onStart: signalWhen(() => lines(partials) >= 1, 1) });
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain("stopping: finishing the items in flight");
    const kept = readPartials(folder);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(6);
    // The items in flight finished: every row is a response, none a cancellation.
    for (const row of kept) expect(row).toMatchObject({ status: "ok", generation: { max_tokens: 512 } });
    for (const row of kept) expect(row.usage!.output_tokens).toBeLessThanOrEqual(512);
    const manifest = manifestOf(folder);
    expect(manifest.config.generation.max_tokens).toBe(512);
    expect(manifest.models[0].options.max_tokens).toBe(512);
    expect(manifest.sessions.at(-1).interrupted).toBe(true);

    const resumed = await runCli(base(dir, "s"));
    expect(resumed.code, resumed.stderr).toBe(0);
    const rows = readPartials(folder);
    expect(new Set(rows.map((row) => row.key)).size).toBe(6);
    expect(rows).toHaveLength(6);
    expect(resumed.stdout).toContain("6 done, 0 failed");
  }, 180_000);

  it("a second SIGTERM cancels generations in flight, even ones that would never end (exit 130, nothing recorded)", async () => {
    const dir = tempDir();
    const folder = join(dir, "c");
    const log = join(folder, "run.log");
    // The run has started its items once the run.log has its run_start line; give the lanes a moment to begin.
    let since = 0;
    const ready = () => lines(log) >= 1 && (since ||= performance.now()) + 1000 < performance.now();
    const result = await runCli([...base(dir, "c"), "--max-tokens", "100000"], { onStart: signalWhen(ready, 2) });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain("cancelling the items in flight");
    expect(lines(join(folder, "partials.jsonl"))).toBe(0);
    expect(manifestOf(folder).sessions.at(-1).interrupted).toBe(true);
  }, 90_000);
});
