import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BoardHeadline, RunListing } from "../../src/viewer/run-index.js";
import { runState, type StateInputs } from "../../src/viewer/run-state.js";
import { boardColumns, boardRows, naturalCompare, orderRuns, sortRows } from "../../web/shared/board-model.js";
import { tempDir } from "../helpers/run-folder.js";

function headline(name: string, model: string, estimate: number | null): BoardHeadline {
  return { name, model, estimate, ci95: estimate === null ? null : [estimate / 2, (estimate + 1) / 2], n: 10, clustered: false, kind: { type: "rate" }, higher_is: "worse", source: "headline" };
}

function run(runId: string, createdAt: string, headlines: BoardHeadline[], models = [...new Set(headlines.map((entry) => entry.model))]): RunListing {
  return {
    run_id: runId,
    created_at: createdAt,
    updated_at: createdAt,
    models,
    personas: ["none"],
    dataset: "d.jsonl",
    judge: null,
    state: "finished",
    progress: { ok: 10, error: 0, total: 10, partials_bytes: 1, partials_modified: null },
    has_results: true,
    headlines,
  };
}

describe("the leaderboard's columns, rows and order", () => {
  const runs = [
    run("b", "2026-01-03T00:00:00Z", [headline("asr", "m1", 0.5), headline("refusal", "m1", 0.9)]),
    run("a", "2026-01-02T00:00:00Z", [headline("asr", "m2", 0.05), headline("asr", "m3", null)]),
    run("c", "2026-01-01T00:00:00Z", [headline("toxicity", "m4", 0.1)]),
    run("d", "2026-01-04T00:00:00Z", [], ["m5"]),
  ];

  it("takes every headline name once, in the order runs list them, and a row per run and model", () => {
    expect(boardColumns(runs).map((column) => column.name)).toEqual(["asr", "refusal", "toxicity"]);
    expect(boardRows(runs).map((row) => `${row.run.run_id}/${row.model}`)).toEqual(["b/m1", "a/m2", "a/m3", "c/m4", "d/m5"]);
  });

  it("sorts numerically with missing values last in either order", () => {
    const rows = boardRows(runs);
    const order = (column: string, direction: "asc" | "desc") => sortRows(rows, column, direction).map((row) => row.model);
    // 0.05 < 0.5 numerically (as text "0.05" < "0.5" too, so the 10 % vs 9 % case is below).
    expect(order("asr", "asc")).toEqual(["m2", "m1", "m3", "m4", "m5"]);
    expect(order("asr", "desc")).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    const numeric = boardRows([run("x", "2026-01-01T00:00:00Z", [headline("asr", "nine", 0.09), headline("asr", "ten", 0.1), headline("asr", "two", 0.2)])]);
    expect(sortRows(numeric, "asr", "desc").map((row) => row.model)).toEqual(["two", "ten", "nine"]);
    expect(order("toxicity", "desc")).toEqual(["m4", "m1", "m2", "m3", "m5"]);
  });

  it("orders runs by creation time, or by name with numbers as numbers", () => {
    const checkpoints = [run("ckpt-10", "2026-01-01T00:00:00Z", []), run("ckpt-2", "2026-01-03T00:00:00Z", []), run("ckpt-1", "2026-01-02T00:00:00Z", [])];
    expect(orderRuns(checkpoints, "created").map((entry) => entry.run_id)).toEqual(["ckpt-10", "ckpt-1", "ckpt-2"]);
    expect(orderRuns(checkpoints, "name").map((entry) => entry.run_id)).toEqual(["ckpt-1", "ckpt-2", "ckpt-10"]);
    expect(["step-100", "step-20", "step-3"].sort(naturalCompare)).toEqual(["step-3", "step-20", "step-100"]);
  });
});

describe("a run's state", () => {
  const base = (dir: string, changes: Partial<StateInputs> = {}): StateInputs => ({
    lockFile: join(dir, "run.lock"),
    lastSession: { kind: "run", started_at: "2026-01-01T00:00:00Z", ended_at: "2026-01-01T00:01:00Z", interrupted: false },
    finalFiles: true,
    progress: { ok: 10, error: 0, total: 10, partials_modified: new Date().toISOString() },
    ...changes,
  });
  const lock = (dir: string, pid: number, host = hostname(), since = new Date().toISOString()) => writeFileSync(join(dir, "run.lock"), JSON.stringify({ pid, host, command: "alignbench run", since }));

  it("finished, failed items, interrupted, or killed, from the last session and the final files", () => {
    const dir = tempDir();
    expect(runState(base(dir))).toBe("finished");
    expect(runState(base(dir, { progress: { ok: 8, error: 2, total: 10, partials_modified: null } }))).toBe("failed_items");
    expect(runState(base(dir, { lastSession: { kind: "run", started_at: "x", ended_at: "y", interrupted: true } }))).toBe("interrupted");
    expect(runState(base(dir, { lastSession: { kind: "run", started_at: "x" } }))).toBe("killed");
    expect(runState(base(dir, { finalFiles: false }))).toBe("killed");
  });

  it("running while a live process on this host holds the lock; a dead holder's lock is no run", () => {
    const dir = tempDir();
    lock(dir, process.pid);
    expect(runState(base(dir, { lastSession: { kind: "run", started_at: "x" } }))).toBe("running");
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    lock(dir, Number(gone.stdout));
    expect(runState(base(dir, { lastSession: { kind: "run", started_at: "x" } }))).toBe("killed");
    writeFileSync(join(dir, "run.lock"), "");
    expect(runState(base(dir))).toBe("finished");
  });

  it("a lock of another host counts while the run keeps writing", () => {
    const dir = tempDir();
    lock(dir, 1, "elsewhere.example", "2026-01-01T00:00:00Z");
    const now = Date.parse("2026-01-01T01:00:00Z");
    const session = { kind: "run" as const, started_at: "2026-01-01T00:00:00Z" };
    expect(runState(base(dir, { now, lastSession: session, progress: { ok: 1, error: 0, total: 10, partials_modified: "2026-01-01T00:59:30Z" } }))).toBe("running");
    expect(runState(base(dir, { now, lastSession: session, progress: { ok: 1, error: 0, total: 10, partials_modified: "2026-01-01T00:30:00Z" } }))).toBe("killed");
  });
});
