import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { checkPartials } from "../../src/results/partials-integrity.js";
import { finishRepair, repairPartials } from "../../src/results/partials-repair.js";
import { PartialsWriter } from "../../src/results/partials-writer.js";
import { Redactor } from "../../src/results/redactor.js";
import type { ResultRow } from "../../src/results/record.js";
import { StateStore } from "../../src/results/state-store.js";
import { tempDir } from "../helpers/run-folder.js";
import { row as wholeRow } from "../helpers/run-store-conformance.js";

function row(key: string, attempt = 1, status: "ok" | "error" = "ok"): ResultRow {
  return { ...wholeRow(key, attempt, status), raw_candidate: `response ${key} ${attempt}`, transcript: [] };
}

/** A run folder's partials.jsonl and state.sqlite holding `rows`, written as the runner writes them. */
async function folderWith(rows: ResultRow[]): Promise<{ dir: string; file: string; state: string }> {
  const dir = tempDir();
  const file = join(dir, "partials.jsonl");
  const state = join(dir, "state.sqlite");
  const store = new StateStore(state);
  const writer = new PartialsWriter(file, store, new Redactor([]), { fsync: false, maxDelayMs: 1, maxBatch: 2 });
  for (const entry of rows) await writer.append(entry);
  await writer.close();
  store.close();
  return { dir, file, state };
}

const FIVE = ["a", "b", "c", "d", "e"].map((key) => row(key));

/** Overwrites bytes of line `line` (1-based) in place, as a bad sector or a stray write would. */
function overwriteLine(file: string, line: number, at: number, bytes: string): void {
  const text = readFileSync(file);
  let start = 0;
  for (let index = 1; index < line; index++) start = text.indexOf(10, start) + 1;
  Buffer.from(bytes).copy(text, start + at);
  writeFileSync(file, text);
}

function sql(state: string, statement: string): void {
  const db = new Database(state);
  db.exec(statement);
  db.close();
}

describe("checking partials.jsonl against state.sqlite", () => {
  it("finds nothing wrong in an intact folder, nor in a last line cut short by a kill", async () => {
    const { file, state } = await folderWith([...FIVE, row("b", 2, "ok")]);
    appendFileSync(file, '{"schema_version":2,"key":"f');
    const store = new StateStore(state);
    expect(checkPartials(file, store).damaged).toEqual([]);
    store.close();
  });

  it("names a middle line that no longer parses, and its key", async () => {
    const { file, state } = await folderWith(FIVE);
    overwriteLine(file, 3, 40, "\u0000garbage\u0000");
    const store = new StateStore(state);
    const check = checkPartials(file, store);
    expect(check.damaged).toEqual([{ line: 3, offset: expect.any(Number), problem: expect.stringMatching(/^not valid JSON/) }]);
    expect([...check.rerun]).toEqual(["c"]);
    store.close();
  });

  it("names a valid row whose key disagrees with the mark at its offset", async () => {
    const { file, state } = await folderWith(FIVE);
    sql(state, "UPDATE items SET key = 'zz' WHERE key = 'd'");
    const store = new StateStore(state);
    const check = checkPartials(file, store);
    expect(check.damaged).toEqual([{ line: 4, offset: expect.any(Number), problem: 'state.sqlite expects "zz" here, the row is "d"' }]);
    expect([...check.rerun].sort()).toEqual(["d", "zz"]);
    store.close();
  });

  it("names a mark whose offset is not the start of a row, or past the end", async () => {
    const { file, state } = await folderWith(FIVE);
    sql(state, "UPDATE items SET row_offset = row_offset + 7 WHERE key = 'b'; UPDATE items SET row_offset = 10000000 WHERE key = 'e'");
    const store = new StateStore(state);
    const check = checkPartials(file, store);
    // Each row is then also a second copy of its key's latest attempt, as far as the store can tell.
    expect(check.damaged.map((damaged) => [damaged.line, damaged.problem])).toEqual([
      [2, expect.stringMatching(/^attempt 1 of "b" is here and, per state\.sqlite, at byte \d+$/)],
      [2, expect.stringMatching(/^state\.sqlite places the row of "b" at byte \d+, which is not the start of a row$/)],
      [5, 'attempt 1 of "e" is here and, per state.sqlite, at byte 10000000'],
      [5, 'state.sqlite places the row of "e" at byte 10000000, past the end of the file'],
    ]);
    expect([...check.rerun].sort()).toEqual(["b", "e"]);
    store.close();
  });

  it("names a row copied a second time (it would be counted twice)", async () => {
    const { file, state } = await folderWith(FIVE);
    appendFileSync(file, readFileSync(file, "utf8").split("\n")[1] + "\n");
    const store = new StateStore(state);
    const check = checkPartials(file, store);
    expect(check.damaged.map((damaged) => damaged.line)).toEqual([6]);
    expect([...check.rerun]).toEqual(["b"]);
    store.close();
  });
});

describe("repairing partials.jsonl", () => {
  it("keeps the damaged file, rewrites partials.jsonl without the keys concerned, and leaves them not done", async () => {
    const { dir, file, state } = await folderWith([...FIVE, row("c", 2, "error"), row("c", 3, "ok")]);
    overwriteLine(file, 7, 20, "}}}}");
    const damagedBytes = readFileSync(file);
    const store = new StateStore(state);
    const repair = repairPartials(file, store, new Date("2026-01-02T03:04:05.678Z"))!;
    expect(repair.damaged.map((damaged) => damaged.line)).toEqual([7]);
    expect(repair.rerun).toEqual(["c"]);
    expect(repair.copy).toBe(join(dir, "partials.damaged-2026-01-02T03-04-05-678Z.jsonl"));
    expect(readFileSync(repair.copy)).toEqual(damagedBytes);
    // Every attempt of c is set aside (else a new attempt 1 would sit beside the old one); the others stay done.
    const keys = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as ResultRow).key);
    expect(keys).toEqual(["a", "b", "d", "e"]);
    expect(store.lookup("c")).toBeUndefined();
    expect(store.counts()).toEqual({ ok: 4, error: 0 });
    expect(checkPartials(file, store).damaged).toEqual([]);
    expect(repairPartials(file, store)).toBeUndefined();
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    store.close();
  });

  it("completes a repair killed after the store was emptied, from the rewritten file", async () => {
    const { file, state } = await folderWith(FIVE);
    const rewritten = readFileSync(file, "utf8").split("\n").slice(0, 2).join("\n") + "\n";
    writeFileSync(file + ".tmp", rewritten);
    const store = new StateStore(state);
    store.startRebuild();
    finishRepair(file, store);
    expect(existsSync(file + ".tmp")).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(rewritten);
    expect(store.rebuildPending()).toBe(false);
    expect(store.counts()).toEqual({ ok: 2, error: 0 });
    expect(checkPartials(file, store).damaged).toEqual([]);
    store.close();
  });

  it("drops the rewrite of a repair killed before the store was touched", async () => {
    const { file, state } = await folderWith(FIVE);
    const original = readFileSync(file, "utf8");
    writeFileSync(file + ".tmp", "half a rewrite");
    const store = new StateStore(state);
    finishRepair(file, store);
    expect(existsSync(file + ".tmp")).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(original);
    expect(store.counts()).toEqual({ ok: 5, error: 0 });
    store.close();
  });
});
