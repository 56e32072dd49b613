import { rmSync } from "node:fs";

// Errors that mean the machine refused the write, not that alignbench is wrong: out of space or quota,
// no permission, a read-only or failing disk, a file over the size limit, no file handles left, a folder
// where a file of the run should be.
const OS_CODES = new Set(["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EIO", "EFBIG", "ENXIO", "EMFILE", "ENFILE", "ENOTDIR", "EISDIR", "ENOENT"]);
const SQLITE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM)/;

/** A write to one of the run folder's files failed; `cause` is the OS's (or SQLite's) error. */
export class FileWriteError extends Error {
  override readonly name: string = "FileWriteError";
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`cannot write ${file}: ${osMessage(cause)}`);
  }
}

/** Whether `error` says the environment (disk, permissions) failed, as opposed to a bug. */
export function isEnvironmentFailure(error: unknown): boolean {
  if (error instanceof FileWriteError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (OS_CODES.has(code) || SQLITE_CODES.test(code));
}

/** `error` tied to `file` when the environment failed; anything else (a bug) is returned as it is. */
export function asWriteFailure(file: string, error: unknown): unknown {
  if (error instanceof FileWriteError || !isEnvironmentFailure(error)) return error;
  return new FileWriteError(file, error);
}

/** The OS error as the user needs it: its code and text (`ENOSPC: no space left on device, write`). */
export function osMessage(error: unknown): string {
  if (error instanceof FileWriteError) return osMessage(error.cause);
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** Removes a temporary file left by a failed write; a failure to remove it must not hide the write's error. */
export function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // The write's own error is the one worth reporting.
  }
}
