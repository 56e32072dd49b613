import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { UserError } from "../../errors.js";
import { isAlive } from "../../common/process-alive.js";

/** Who holds a run: written into the run folder's lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export class RunLockedError extends UserError {
  override readonly name = "RunLockedError";
}

/**
 * An exclusive lock on a run folder: a lock file created with O_EXCL, naming its holder. A second process
 * on the same run is refused with the holder's pid, host and command; a lock whose holder on this host is
 * no longer alive (killed, crashed) is taken over. A holder on another host cannot be checked, so its lock
 * is never taken over automatically: the message says how to remove it.
 */
export class RunLock {
  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
    readonly tookOver: LockHolder | undefined,
  ) {}

  static acquire(file: string, command: string): RunLock {
    const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    for (let tries = 0; tries < 3; tries++) {
      if (create(file, me)) return held(new RunLock(file, me, undefined));
      const current = readHolder(file);
      if (!current) {
        // Released meanwhile, or torn: a holder killed between creating and writing it leaves it empty.
        if (tornAndOld(file)) unlinkQuietly(file);
        continue;
      }
      if (current.host === me.host && current.pid === me.pid) {
        // This process holds it already (another session on the same run, through the library)…
        if (HELD.has(file)) throw new RunLockedError(`run is already open in this process (${current.command}, since ${current.since}): finish that first`);
        // …or a process that had the same pid before this one left it behind: it is dead, take over.
        unlinkQuietly(file);
        if (create(file, me)) return held(new RunLock(file, me, current));
        continue;
      }
      if (current.host !== me.host || isAlive(current.pid)) {
        const where = current.host === me.host ? `process ${current.pid}` : `process ${current.pid} on host ${current.host}`;
        const remedy = current.host === me.host ? "wait for it to finish or stop it (Ctrl-C), then try again" : `if that process is gone, delete ${file}`;
        throw new RunLockedError(`run is in use by ${where} (${current.command}, since ${current.since}): ${remedy}`);
      }
      // The holder died without releasing: take over. Removing only the lock we read (same content) keeps
      // two processes taking over at once from both winning: the loser's O_EXCL create fails.
      if (sameHolder(readHolder(file), current)) unlinkQuietly(file);
      if (create(file, me)) return held(new RunLock(file, me, current));
    }
    throw new RunLockedError(`cannot lock ${file}: another process keeps taking it`);
  }

  /** Whether this process still holds the lock (a racing takeover could have replaced it). */
  held(): boolean {
    return sameHolder(readHolder(this.file), this.holder);
  }

  release(): void {
    HELD.delete(this.file);
    if (this.held()) unlinkQuietly(this.file);
  }
}

/** The lock files this process holds, so a second session on the same run in this process is refused too. */
const HELD = new Set<string>();

function held(lock: RunLock): RunLock {
  HELD.add(lock.file);
  return lock;
}

function create(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(holder) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as Partial<LockHolder>;
    if (typeof value.pid !== "number" || typeof value.host !== "string") return undefined;
    return { pid: value.pid, host: value.host, command: String(value.command ?? "alignbench"), since: String(value.since ?? "?") };
  } catch {
    return undefined;
  }
}

function sameHolder(a: LockHolder | undefined, b: LockHolder): boolean {
  return a !== undefined && a.pid === b.pid && a.host === b.host && a.since === b.since;
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function tornAndOld(file: string): boolean {
  const info = statSync(file, { throwIfNoEntry: false });
  return info !== undefined && Date.now() - info.mtimeMs > 5_000;
}
