import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { ManifestSession } from "../results/manifest.js";
import { isAlive } from "../common/process-alive.js";

/**
 * What a run folder's state is, from the facts on disk:
 * - running: a live process holds the run's lock (on another host, which cannot be checked, while it keeps writing);
 * - interrupted: the last session was stopped by a signal (Ctrl-C, SIGTERM) and wrote its final files;
 * - failed_items: the last session finished, with items still failed (resuming retries them);
 * - finished: the last session finished with every item done;
 * - killed: the last session never finished (SIGKILL, a crash, power loss) and nobody holds the lock: its final
 *   files are missing or older than its rows. Resuming picks up where it stopped.
 */
export type RunState = "running" | "interrupted" | "failed_items" | "finished" | "killed";

export interface StateInputs {
  /** The run folder's lock file. */
  lockFile: string;
  lastSession: ManifestSession | undefined;
  /** Whether results.parquet and summary.json exist. */
  finalFiles: boolean;
  progress: { ok: number; error: number; total: number; partials_modified: string | null };
  now?: number;
}

/** A lock held by another host cannot be checked: it counts as live while the run wrote within this long. */
const REMOTE_QUIET_MS = 120_000;

export function runState(inputs: StateInputs): RunState {
  const now = inputs.now ?? Date.now();
  const holder = lockHolder(inputs.lockFile);
  if (holder) {
    if (holder.host === hostname()) {
      if (isAlive(holder.pid)) return "running";
    } else {
      const recent = (time: string | null | undefined) => typeof time === "string" && now - Date.parse(time) < REMOTE_QUIET_MS;
      if (recent(inputs.progress.partials_modified) || recent(holder.since)) return "running";
    }
  }
  const last = inputs.lastSession;
  // The session's end is written after its final files; a session without one was killed mid-way.
  if (!last?.ended_at || !inputs.finalFiles) return "killed";
  if (last.interrupted) return "interrupted";
  return inputs.progress.error > 0 ? "failed_items" : "finished";
}

function lockHolder(file: string): { pid: number; host: string; since: string | undefined } | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown; host?: unknown; since?: unknown };
    if (typeof value.pid !== "number" || typeof value.host !== "string") return undefined;
    return { pid: value.pid, host: value.host, since: typeof value.since === "string" ? value.since : undefined };
  } catch {
    // Torn (a holder killed between creating and writing it) or removed meanwhile: nobody holds it.
    return undefined;
  }
}
