import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { RESULT_SCHEMA_VERSION, type ResultRow } from "../../src/results/record.js";
import type { RunStore } from "../../src/runner/store/types.js";

/** What the conformance suite needs from a store implementation. */
export interface StoreHarness {
  /** A new, empty run in a store of this kind. */
  create(): Promise<{ open(): Promise<RunStore> }>;
  /**
   * A script (ESM, run by `node --input-type=module`) that opens the store of `run` and appends rows
   * `key-0`, `key-1`, … for ever, printing each key on stdout once its append has resolved. The suite
   * SIGKILLs it at random and checks what survived.
   */
  writerScript?(run: { open(): Promise<RunStore> }): string;
}

export function row(key: string, attempt = 1, status: "ok" | "error" = "ok"): ResultRow {
  const now = new Date().toISOString();
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: "conformance",
    key,
    dimensions: { test: key, persona: "none", model: "m", epoch: 1 },
    test_id: key,
    category: "c",
    subcategory: "s",
    persona_slug: "none",
    model_slug: "m",
    epoch: 1,
    attempt,
    source: "run",
    started_at: now,
    completed_at: now,
    messages: [{ role: "user", content: `prompt ${key}` }],
    raw_candidate: `response ${key} ${attempt}`,
    finish_reason: "stop",
    generation: {},
    usage: null,
    latency_ms: 1,
    transcript: [],
    expected_safe_behavior: null,
    attack_notes: null,
    item_judge_prompt: null,
    item_judge_schema: null,
    item_metadata: null,
    tags: null,
    scores: { check: { value: status === "ok" ? 1 : null, label: null, raw: null, error: status === "ok" ? null : "failed" } },
    status,
    error: status === "ok" ? null : "failed",
    error_type: status === "ok" ? null : "server_error",
  };
}

async function collect(rows: AsyncIterable<ResultRow>): Promise<ResultRow[]> {
  const out: ResultRow[] = [];
  for await (const entry of rows) out.push(entry);
  return out;
}

/**
 * The guarantees every RunStore implementation must keep (see src/runner/store/types.ts). A new store
 * (a distributed one) passes this suite before anything else uses it.
 */
export function describeRunStoreConformance(name: string, harness: StoreHarness): void {
  describe(`RunStore conformance: ${name}`, () => {
    it("append resolves once the row is durable and its key marked: a reopened store sees both", async () => {
      const run = await harness.create();
      const store = await run.open();
      await store.recover();
      await store.append(row("a"));
      await store.append(row("b", 1, "error"));
      expect(await store.lookup("a")).toEqual({ status: "ok", attempts: 1 });
      await store.close();
      const again = await run.open();
      await again.recover();
      expect(await again.lookup("a")).toEqual({ status: "ok", attempts: 1 });
      expect(await again.lookup("b")).toEqual({ status: "error", attempts: 1 });
      expect(await again.lookup("never")).toBeUndefined();
      expect(await again.counts()).toEqual({ ok: 1, error: 1 });
      await again.close();
    });

    it("keeps every attempt but reads back only the latest row per key", async () => {
      const run = await harness.create();
      const store = await run.open();
      await store.recover();
      await store.append(row("a", 1, "error"));
      await store.append(row("b"));
      await store.append(row("a", 2));
      const latest = await collect(store.latestRows());
      expect(latest.map((entry) => [entry.key, entry.attempt]).sort()).toEqual([
        ["a", 2],
        ["b", 1],
      ]);
      expect(await store.counts()).toEqual({ ok: 2, error: 0 });
      await store.close();
    });

    it("a snapshot excludes rows appended after it", async () => {
      const run = await harness.create();
      const store = await run.open();
      await store.recover();
      await store.append(row("a"));
      const snapshot = await store.snapshot();
      await store.append(row("b"));
      expect((await collect(store.latestRows(snapshot))).map((entry) => entry.key)).toEqual(["a"]);
      await store.close();
    });

    it("claims hand a key out once until it is appended, released or its lease expires, and never a done key", async () => {
      const run = await harness.create();
      const store = await run.open();
      await store.recover();
      await store.append(row("done"));
      await store.append(row("failed", 1, "error"));
      const first = await store.claim(["done", "failed", "new-1", "new-2"], 60_000);
      expect(first.map((claim) => [claim.key, claim.attempt])).toEqual([
        ["failed", 2],
        ["new-1", 1],
        ["new-2", 1],
      ]);
      // The failed attempt comes with the claim, so its response can be reused.
      expect(first[0]!.previous?.raw_candidate).toBe("response failed 1");
      expect(await store.claim(["failed", "new-1", "new-2"], 60_000)).toEqual([]);
      await store.release(["new-1"]);
      expect((await store.claim(["new-1"], 1)).map((claim) => claim.key)).toEqual(["new-1"]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await store.claim(["new-1"], 60_000)).map((claim) => claim.key)).toEqual(["new-1"]);
      await store.append(row("new-2"));
      await store.release(["new-2"]);
      expect(await store.claim(["new-2"], 60_000)).toEqual([]);
      await store.close();
    });

    if (harness.writerScript) {
      it("after SIGKILL mid-append, recovery loses no acknowledged row and doubles none", async () => {
        const run = await harness.create();
        const script = harness.writerScript!(run);
        const acknowledged = new Set<string>();
        for (let round = 0; round < 3; round++) {
          await new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ["--input-type=module", "-e", script.replace("__ROUND__", String(round))], { stdio: ["ignore", "pipe", "inherit"] });
            let buffer = "";
            child.stdout.on("data", (chunk: Buffer) => {
              buffer += chunk.toString();
              const lines = buffer.split("\n");
              buffer = lines.pop()!;
              for (const line of lines) if (line) acknowledged.add(line);
              if (acknowledged.size >= 40 * (round + 1)) child.kill("SIGKILL");
            });
            child.on("error", reject);
            child.on("close", () => resolve());
          });
        }
        // Each round was killed with acknowledged appends behind it (a writer that never ran would prove nothing).
        expect(acknowledged.size).toBeGreaterThanOrEqual(120);
        const store = await run.open();
        await store.recover();
        const latest = await collect(store.latestRows());
        const keys = latest.map((entry) => entry.key);
        expect(new Set(keys).size).toBe(keys.length);
        for (const key of acknowledged) expect(keys).toContain(key);
        expect((await store.counts()).ok).toBe(keys.length);
        await store.close();
      });
    }
  });
}
