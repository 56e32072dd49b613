import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunLock, RunLockedError } from "../../src/runner/store/lock.js";
import { tempDir } from "../helpers/run-folder.js";

const holder = (pid: number, host = hostname()) => JSON.stringify({ pid, host, command: "alignbench run", since: "2026-01-01T00:00:00.000Z" });

describe("the run lock", () => {
  it("is exclusive, names its holder, and is released", () => {
    const file = join(tempDir(), "run.lock");
    const lock = RunLock.acquire(file, "alignbench run");
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ pid: process.pid, host: hostname(), command: "alignbench run" });
    expect(lock.held()).toBe(true);
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it("refuses a second session on the same run in this process, and takes over a dead process's lock that had our pid", () => {
    const file = join(tempDir(), "run.lock");
    const first = RunLock.acquire(file, "alignbench run");
    expect(() => RunLock.acquire(file, "alignbench rejudge")).toThrow("run is already open in this process");
    first.release();
    writeFileSync(file, holder(process.pid).replace("2026-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"));
    const again = RunLock.acquire(file, "alignbench run");
    expect(again.tookOver?.since).toBe("2025-01-01T00:00:00.000Z");
    again.release();
  });

  it("refuses a live holder on this host, naming its pid and command", () => {
    const file = join(tempDir(), "run.lock");
    // The parent of this test process is alive and is not us.
    writeFileSync(file, holder(process.ppid));
    expect(() => RunLock.acquire(file, "alignbench rejudge")).toThrow(RunLockedError);
    expect(() => RunLock.acquire(file, "alignbench rejudge")).toThrow(`run is in use by process ${process.ppid} (alignbench run, since 2026-01-01T00:00:00.000Z)`);
  });

  it("takes over from a holder that died, and says whom it replaced", () => {
    const file = join(tempDir(), "run.lock");
    writeFileSync(file, holder(2 ** 22 + 12345)); // beyond any pid this machine hands out
    const lock = RunLock.acquire(file, "alignbench run");
    expect(lock.tookOver?.pid).toBe(2 ** 22 + 12345);
    expect(JSON.parse(readFileSync(file, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("never takes over a holder on another host, and says which file to delete", () => {
    const file = join(tempDir(), "run.lock");
    writeFileSync(file, holder(1, "another-machine"));
    expect(() => RunLock.acquire(file, "alignbench run")).toThrow(`process 1 on host another-machine`);
    expect(() => RunLock.acquire(file, "alignbench run")).toThrow(`delete ${file}`);
  });

  it("removes a torn lock (a holder killed while writing it) once it is old, and not while it is fresh", () => {
    const file = join(tempDir(), "run.lock");
    writeFileSync(file, "");
    expect(() => RunLock.acquire(file, "alignbench run")).toThrow(RunLockedError);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const lock = RunLock.acquire(file, "alignbench run");
    expect(lock.held()).toBe(true);
    lock.release();
  });
});
