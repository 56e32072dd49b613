import { EnvironmentError, isUserError, UserError } from "../../errors.js";
import { printErr } from "../output.js";

/** A one-line byte counter on stderr for long reads (a terminal only, at most 5 updates a second). */
export function byteProgress(label: string, enabled: boolean): { update(done: number, total: number): void; end(): void } {
  const live = enabled && Boolean(process.stderr.isTTY) && process.env.CI !== "true";
  let last = 0;
  let shown = false;
  const started = Date.now();
  return {
    update(done, total) {
      const now = Date.now();
      if (!live || now - last < 200) return;
      last = now;
      shown = true;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? done / 1e9 / seconds : 0;
      printErr(`\r${label}: ${(done / 1e9).toFixed(2)} of ${(total / 1e9).toFixed(2)} GB (${((100 * done) / Math.max(total, 1)).toFixed(0)}%), ${rate.toFixed(2)} GB/s `);
    },
    end() {
      if (shown) printErr("\n");
    },
  };
}

/** A full disk or a permission error while writing weights is the machine's, not a bug: exit code 4. */
export function asEnvironmentError(error: unknown): unknown {
  if (isUserError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "EIO" || code === "EDQUOT") {
    return new EnvironmentError(`${(error as Error).message}`);
  }
  if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return new UserError(`${(error as Error).message}`);
  return error;
}
