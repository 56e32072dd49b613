import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { interruptControls } from "../../src/cli/interrupt.js";
import { InterruptedError } from "../../src/errors.js";
import { ensureRemoteDataset } from "../../src/io/download.js";
import { untilStopped } from "../../src/runner/early-stop.js";
import { tempDir } from "../helpers/run-folder.js";

/** The SIGINT listener interruptControls adds (called directly: emitting SIGINT would reach the test runner's own). */
function controlsWithListener(options: { preparing?: boolean } = {}) {
  const before = new Set(process.listeners("SIGINT"));
  const said: string[] = [];
  const controls = interruptControls((message) => said.push(message), options);
  const listener = process.listeners("SIGINT").find((candidate) => !before.has(candidate)) as () => void;
  return { controls, listener, said };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("Ctrl-C and SIGTERM", () => {
  it("once a run has started: stop, then cancel, then the next signal is the system's (it kills)", async () => {
    const { controls, listener, said } = controlsWithListener();
    listener();
    expect(controls.stopSignal.aborted).toBe(true);
    expect(controls.abortSignal.aborted).toBe(false);
    expect(said).toEqual(["stopping: finishing the items in flight (Ctrl-C again to cancel them)…"]);
    listener();
    expect(controls.abortSignal.aborted).toBe(true);
    expect(said[1]).toContain("Ctrl-C again quits at once");
    // Still listening while this signal is delivered (another listener, signal-exit, would re-send it otherwise)…
    expect(process.listeners("SIGINT")).toContain(listener);
    await nextTurn();
    // …and no longer afterwards, for SIGINT and SIGTERM alike.
    expect(process.listeners("SIGINT")).not.toContain(listener);
    expect(process.listeners("SIGTERM")).not.toContain(listener);
    controls.dispose();
  });

  it("before the run has started: the first signal stops at once and the next one is the system's", async () => {
    const { controls, listener, said } = controlsWithListener({ preparing: true });
    listener();
    expect(controls.stopSignal.aborted).toBe(true);
    // The command says why it stopped once it has: no promise of finishing items that never started.
    expect(said).toEqual([]);
    await nextTurn();
    expect(process.listeners("SIGINT")).not.toContain(listener);
    controls.dispose();
  });

  it("after started(), a signal is a graceful stop again", () => {
    const { controls, listener, said } = controlsWithListener({ preparing: true });
    controls.started();
    listener();
    expect(said[0]).toMatch(/^stopping: finishing the items in flight/);
    expect(process.listeners("SIGINT")).toContain(listener);
    controls.dispose();
    expect(process.listeners("SIGINT")).not.toContain(listener);
  });
});

describe("stopping before the run starts", () => {
  it("does not wait for work that cannot be cancelled", async () => {
    const stop = new AbortController();
    const never = new Promise<never>(() => undefined);
    const waiting = untilStopped(never, stop.signal);
    setTimeout(() => stop.abort(), 10);
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
    await expect(untilStopped(Promise.resolve(1), stop.signal)).rejects.toThrow(/interrupted before the first item/);
  });

  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it("aborts a dataset download, keeping only the partial file, which the next download resumes", async () => {
    const file = Buffer.from("id,prompt\n" + Array.from({ length: 2000 }, (_, i) => `${i},prompt number ${i}`).join("\n") + "\n");
    const ranges: string[] = [];
    let slow = true;
    const server = createServer((req, res: ServerResponse) => {
      if (req.method === "HEAD") return res.writeHead(200, { "content-length": String(file.length) }).end();
      ranges.push(String(req.headers.range ?? ""));
      const start = req.headers.range ? Number(/bytes=(\d+)-/.exec(String(req.headers.range))![1]) : 0;
      res.writeHead(start > 0 ? 206 : 200, { "content-length": String(file.length - start) });
      if (!slow) return res.end(file.subarray(start));
      res.write(file.subarray(0, 1000)); // then nothing more: a stalled link
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = () => server.close();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench/cases.csv`;
    const cacheDir = tempDir();
    const stop = new AbortController();
    const download = ensureRemoteDataset(url, { cacheDir, signal: stop.signal });
    download.catch(() => undefined);
    const folder = join(cacheDir, "url", `127.0.0.1_${(server.address() as AddressInfo).port}`, "bench");
    // Stopped once the first 1000 bytes are on disk, while the link is stalled.
    while (!(existsSync(join(folder, "cases.csv.part")) && statSync(join(folder, "cases.csv.part")).size === 1000)) await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    await expect(download).rejects.toBeInstanceOf(InterruptedError);
    expect(readdirSync(folder)).toEqual(["cases.csv.part"]);
    expect(statSync(join(folder, "cases.csv.part")).size).toBe(1000);

    slow = false;
    const path = await ensureRemoteDataset(url, { cacheDir });
    expect(ranges.at(-1)).toBe("bytes=1000-");
    expect(statSync(path).size).toBe(file.length);
    expect(existsSync(join(folder, "cases.csv.part"))).toBe(false);
  });
});
