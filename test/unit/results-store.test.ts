import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PartialsWriter } from "../../src/results/partials-writer.js";
import { reconcile } from "../../src/results/reconcile.js";
import { Redactor } from "../../src/results/redactor.js";
import type { ResultRow } from "../../src/results/record.js";
import { StateStore } from "../../src/results/state-store.js";
import { tempDir } from "../helpers/run-folder.js";

function row(key: string, attempt = 1, status: "ok" | "error" = "ok", text = "response"): ResultRow {
  return { key, attempt, status, error_type: status === "error" ? "server_error" : null, raw_candidate: text } as unknown as ResultRow;
}

describe("partials.jsonl and state.sqlite", () => {
  it("writes rows before marking them, in group commits", async () => {
    const dir = tempDir();
    const store = new StateStore(join(dir, "state.sqlite"));
    const writer = new PartialsWriter(join(dir, "partials.jsonl"), store, new Redactor(["sk-secret-value"]));
    await Promise.all([writer.append(row("a")), writer.append(row("b", 1, "error")), writer.append(row("c", 1, "ok", "leaks sk-secret-value"))]);
    await writer.close();
    expect(store.lookup("a")).toEqual({ status: "ok", attempts: 1, rowOffset: 0 });
    const firstLine = readFileSync(join(dir, "partials.jsonl"), "utf8").split("\n")[0]!;
    expect(store.lookup("b")).toEqual({ status: "error", attempts: 1, rowOffset: Buffer.byteLength(firstLine) + 1 });
    const { readRowAt } = await import("../../src/results/partials-reader.js");
    expect(readRowAt(join(dir, "partials.jsonl"), store.lookup("c")!.rowOffset!)).toMatchObject({ key: "c", raw_candidate: "leaks [REDACTED]" });
    expect(store.partialsOffset()).toBe(statSync(join(dir, "partials.jsonl")).size);
    expect(readFileSync(join(dir, "partials.jsonl"), "utf8")).toContain("leaks [REDACTED]");
    store.close();
  });

  it("marks rows written after the last commit, and cuts a half-written last line", () => {
    const dir = tempDir();
    const file = join(dir, "partials.jsonl");
    const store = new StateStore(join(dir, "state.sqlite"));
    appendFileSync(file, JSON.stringify(row("a")) + "\n");
    store.commit([{ key: "a", status: "ok", attempt: 1, errorType: null, rowOffset: 0 }], statSync(file).size);
    // Written but never marked (killed between the write and the commit), then half a row.
    appendFileSync(file, JSON.stringify(row("b", 1, "error")) + "\n" + JSON.stringify(row("b", 2)) + "\n");
    const whole = statSync(file).size;
    appendFileSync(file, '{"key":"c","attempt":1,"sta');
    const report = reconcile(file, store);
    expect(report).toEqual({ recovered: 2, truncatedBytes: 27, rebuilt: false });
    expect(statSync(file).size).toBe(whole);
    expect(store.lookup("b")).toMatchObject({ status: "ok", attempts: 2 });
    expect(store.lookup("c")).toBeUndefined();
    expect(store.partialsOffset()).toBe(whole);
    // Idempotent.
    expect(reconcile(file, store)).toEqual({ recovered: 0, truncatedBytes: 0, rebuilt: false });
    store.close();
  });

  it("rebuilds the state from the file when the store is ahead of it", () => {
    const dir = tempDir();
    const file = join(dir, "partials.jsonl");
    const store = new StateStore(join(dir, "state.sqlite"));
    appendFileSync(file, JSON.stringify(row("x")) + "\n");
    store.commit([{ key: "ghost", status: "ok", attempt: 1, errorType: null, rowOffset: 0 }], 10_000);
    const report = reconcile(file, store);
    expect(report.rebuilt).toBe(true);
    expect(store.lookup("ghost")).toBeUndefined();
    expect(store.lookup("x")).toEqual({ status: "ok", attempts: 1, rowOffset: 0 });
    store.close();
  });

  it("never lets an older attempt overwrite a newer one", () => {
    const dir = tempDir();
    const store = new StateStore(join(dir, "state.sqlite"));
    store.commit([{ key: "k", status: "ok", attempt: 3, errorType: null, rowOffset: 100 }], 1);
    store.commit([{ key: "k", status: "error", attempt: 2, errorType: "timeout", rowOffset: 50 }], 2);
    expect(store.lookup("k")).toEqual({ status: "ok", attempts: 3, rowOffset: 100 });
    expect(store.retriedKeys()).toEqual(new Map([["k", 3]]));
    store.close();
  });
});
