import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { needs } from "../helpers/requirements.js";
import { describe, expect, it } from "vitest";
import { EnvironmentError } from "../../src/errors.js";
import { writeJsonAtomically } from "../../src/results/manifest.js";
import { PartialsWriter, type PartialsFileOps } from "../../src/results/partials-writer.js";
import { Redactor } from "../../src/results/redactor.js";
import type { ResultRow } from "../../src/results/record.js";
import { ResultColumns } from "../../src/results/result-columns.js";
import { writeResultFiles } from "../../src/results/result-files.js";
import { runFiles } from "../../src/results/run-folder.js";
import { RunLog } from "../../src/results/run-log.js";
import { StateStore } from "../../src/results/state-store.js";
import { FileWriteError } from "../../src/results/write-failure.js";
import { RunSession } from "../../src/runner/session.js";
import { LocalRunStore } from "../../src/runner/store/local-store.js";
import { tempDir } from "../helpers/run-folder.js";
import { row as wholeRow } from "../helpers/run-store-conformance.js";

// /dev/full is Linux's always-full device: every write to it fails with ENOSPC, as on a full disk.
const DEV_FULL = "/dev/full";
const onLinux = needs("linux");

function row(key: string): ResultRow {
  return { ...wholeRow(key, 1, "ok"), raw_candidate: `response to ${key}`, transcript: [] };
}

function enospc(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: "ENOSPC", errno: -28, syscall });
}

function tmpFiles(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith(".tmp"));
}

describe("a disk that fills up while rows are written", () => {
  it("rejects the batch it could not write, keeps the rows before it whole and marked, and accepts nothing more", async () => {
    const dir = tempDir();
    const file = join(dir, "partials.jsonl");
    const store = new StateStore(join(dir, "state.sqlite"));
    let room = Number.POSITIVE_INFINITY;
    // A disk with `room` bytes left: a write gets what fits, the next one ENOSPC (what write(2) does).
    const fileOps: PartialsFileOps = {
      write: (fd, bytes, offset, length) => {
        if (room <= 0) throw enospc("write");
        const fits = Math.min(room, length);
        room -= fits;
        return writeSync(fd, bytes, offset, fits);
      },
      fdatasync: async () => undefined,
    };
    const writer = new PartialsWriter(file, store, new Redactor([]), { fsync: true, maxDelayMs: 1, maxBatch: 512, fileOps });
    await Promise.all([writer.append(row("a")), writer.append(row("b"))]);
    const saved = readFileSync(file, "utf8");
    room = 40; // the next batch fits only in part
    const failed = await Promise.allSettled([writer.append(row("c")), writer.append(row("d"))]);
    expect(failed.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    const error = (failed[0] as PromiseRejectedResult).reason as FileWriteError;
    expect(error).toBeInstanceOf(FileWriteError);
    expect(error.message).toBe(`cannot write ${file}: ENOSPC: no space left on device, write`);
    // The part of the batch that fit was cut off again: the file ends on the last whole, marked row.
    expect(readFileSync(file, "utf8")).toBe(saved);
    expect(store.lookup("a")?.status).toBe("ok");
    expect(store.lookup("b")?.status).toBe("ok");
    expect(store.lookup("c")).toBeUndefined();
    expect(store.partialsOffset()).toBe(Buffer.byteLength(saved));
    await expect(writer.append(row("e"))).rejects.toBe(error);
    await writer.close();
    store.close();
  });

  it.skipIf(!onLinux)("leaves no results .tmp behind, and the previous results files whole, when the disk is full", async () => {
    const dir = tempDir();
    const files = runFiles(dir, "run");
    mkdirSync(files.folder);
    writeFileSync(files.parquet, "previous parquet");
    writeFileSync(files.csv, "previous csv");
    symlinkSync(DEV_FULL, files.parquet + ".tmp");
    async function* rows(): AsyncGenerator<ResultRow> {
      for (let index = 0; index < 1_500; index++) yield row(`k${index}`);
    }
    const error = await writeResultFiles(files, rows(), new ResultColumns().columns([])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot write ${files.parquet}: ENOSPC: no space left on device`));
    expect(tmpFiles(files.folder)).toEqual([]);
    expect(readFileSync(files.parquet, "utf8")).toBe("previous parquet");
    expect(readFileSync(files.csv, "utf8")).toBe("previous csv");
  });

  it.skipIf(!onLinux)("leaves no manifest .tmp behind, and the previous manifest whole", async () => {
    const dir = tempDir();
    const file = join(dir, "manifest.json");
    writeFileSync(file, '{"previous":true}\n');
    symlinkSync(DEV_FULL, file + ".tmp");
    await expect(writeJsonAtomically(file, { next: true })).rejects.toThrow(`cannot write ${file}: ENOSPC: no space left on device`);
    expect(tmpFiles(dir)).toEqual([]);
    expect(readFileSync(file, "utf8")).toBe('{"previous":true}\n');
  });

  it.skipIf(!onLinux)("a run.log that cannot be written never stops the run", () => {
    const log = new RunLog(DEV_FULL, new Redactor([]));
    expect(() => log.info("something", { n: 1 })).not.toThrow();
    expect((log.failure as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(() => log.close()).not.toThrow();
  });

  it.skipIf(!onLinux)("stops the session with exit code 4, the file, the OS error and the resume command; a failing close does not replace that error", async () => {
    const dir = tempDir();
    let closes = 0;
    // A store whose close fails too, as it may on the same full disk: the first error must stay the one reported.
    class FailingClose extends LocalRunStore {
      override async close(): Promise<void> {
        closes++;
        await super.close();
        throw enospc("close");
      }
    }
    const session = await RunSession.open({ outputDir: dir, runId: "full", kind: "run", redactor: new Redactor([]), openStore: (out, id, redactor) => new FailingClose(out, id, redactor) });
    // The link goes in after the session opened (it refuses links in a run folder it opens), before the first row.
    symlinkSync(DEV_FULL, join(dir, "full", "partials.jsonl"));
    async function* items(): AsyncGenerator<string> {
      yield* ["a", "b", "c"];
    }
    const error = await session.process(items(), 2, async (key) => row(key), { total: 3, alreadyDone: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).exitCode).toBe(4);
    const partials = join(dir, "full", "partials.jsonl");
    expect((error as Error).message).toBe(
      `cannot write ${partials}: ENOSPC: no space left on device, write\n` +
        "the run stopped; rows finished before the failure are kept. Free space (or fix the permissions), then resume: alignbench run … --run-id full",
    );
    await expect(session.close()).resolves.toBeUndefined();
    expect(closes).toBe(1);
    const events = readFileSync(join(dir, "full", "run.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; file?: string; error?: string });
    expect(events.find((event) => event.event === "write_failed")).toMatchObject({ file: partials, error: "ENOSPC: no space left on device, write" });
    expect(events.find((event) => event.event === "close_failed")).toMatchObject({ error: "ENOSPC: no space left on device, close" });
  });

  it.skipIf(!onLinux)("stops the session with exit code 4 on an I/O error the kernel gives (/proc/version refuses writes, root included)", async () => {
    const dir = tempDir();
    const error = await processTwoRows(dir, "refused", (folder) => symlinkSync("/proc/version", join(folder, "partials.jsonl")));
    expect(error).toBeInstanceOf(EnvironmentError);
    // Opening it for writing is refused on some kernels (EACCES), the write on others (EIO).
    expect((error as Error).message).toMatch(new RegExp(`^cannot write ${join(dir, "refused", "partials.jsonl")}: (EACCES: permission denied, open|EIO: i/o error, write)`));
  });

  it("refuses to open the session, with exit code 4, when partials.jsonl cannot be opened at all", async () => {
    const dir = tempDir();
    // A folder where the file should be: opening it for appending fails, as for any user.
    mkdirSync(join(dir, "folder", "partials.jsonl"), { recursive: true });
    // The recovery opens it first: the session does not even start.
    const error = await RunSession.open({ outputDir: dir, runId: "folder", kind: "run", redactor: new Redactor([]) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot write ${join(dir, "folder", "partials.jsonl")}: EISDIR: illegal operation on a directory, open`));
  });
});

/** A session of run `runId` that processes two rows; returns what it threw. */
async function processTwoRows(dir: string, runId: string, afterOpen?: (folder: string) => void): Promise<unknown> {
  const session = await RunSession.open({ outputDir: dir, runId, kind: "run", redactor: new Redactor([]) });
  // A session refuses links in the run folder it opens: a test's link to a failing file goes in afterwards.
  afterOpen?.(join(dir, runId));
  async function* items(): AsyncGenerator<string> {
    yield* ["a", "b"];
  }
  try {
    return await session.process(items(), 2, async (key) => row(key), { total: 2, alreadyDone: 0 }).catch((caught: unknown) => caught);
  } finally {
    await session.close();
  }
}

describe("temporary files of a session killed while writing them", () => {
  it("are removed when the next session opens the run folder, the item index's too", async () => {
    const dir = tempDir();
    const files = runFiles(dir, "killed");
    mkdirSync(files.folder, { recursive: true });
    const temporaries = [files.parquet, files.csv, files.summary, files.manifest, files.judgeEval, files.itemIndex].map((file) => `${file}.tmp`);
    for (const file of temporaries) writeFileSync(file, "half written");
    const session = await RunSession.open({ outputDir: dir, runId: "killed", kind: "run", redactor: new Redactor([]) });
    try {
      expect(tmpFiles(files.folder)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
