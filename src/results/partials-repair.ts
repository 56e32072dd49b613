import { closeSync, copyFileSync, existsSync, fdatasyncSync, linkSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { checkPartials, fileLines, type DamagedLine } from "./partials-integrity.js";
import { reconcile } from "./reconcile.js";
import type { StateStore } from "./state-store.js";
import { asWriteFailure, removeQuietly } from "./write-failure.js";

export interface PartialsRepair {
  damaged: DamagedLine[];
  /** Keys set aside, which run again. */
  rerun: string[];
  /** The damaged partials.jsonl as it was, kept for inspection (never deleted by alignbench). */
  copy: string;
}

/**
 * Finds damage in partials.jsonl (partials-integrity.ts) and repairs it honestly: the file as it was is kept
 * beside it as partials.damaged-<time>.jsonl, partials.jsonl is rewritten without the damaged lines and
 * without any row of the keys concerned, and state.sqlite is rebuilt from the rewritten file, so those
 * keys are no longer done and run again; every other row stays done. Undefined when nothing is damaged.
 *
 * Safe against a kill at any point: state.sqlite is emptied and flagged before the rewritten file replaces
 * the old one, and `finishRepair` (run first on every open) completes a flagged repair.
 */
export function repairPartials(file: string, store: StateStore, now = new Date()): PartialsRepair | undefined {
  finishRepair(file, store);
  const check = checkPartials(file, store);
  if (check.damaged.length === 0) return undefined;
  const temp = file + ".tmp";
  try {
    writeKept(file, temp, (offset, text) => !check.drop.has(offset) && !check.rerun.has(keyOf(text) ?? ""));
  } catch (error) {
    removeQuietly(temp);
    throw asWriteFailure(temp, error);
  }
  const copy = join(dirname(file), `${basename(file, ".jsonl")}.damaged-${now.toISOString().replace(/[:.]/g, "-")}.jsonl`);
  try {
    keepCopy(file, copy);
  } catch (error) {
    removeQuietly(temp);
    throw asWriteFailure(copy, error);
  }
  store.startRebuild();
  renameSync(temp, file);
  finishRepair(file, store);
  return { damaged: check.damaged, rerun: [...check.rerun].sort(), copy };
}

/** Completes a repair a kill interrupted (state.sqlite flagged for a rebuild), or removes the rewrite of one interrupted before that. */
export function finishRepair(file: string, store: StateStore): void {
  const temp = file + ".tmp";
  if (!store.rebuildPending()) {
    removeQuietly(temp);
    return;
  }
  if (existsSync(temp)) renameSync(temp, file);
  reconcile(file, store);
  store.endRebuild();
}

function writeKept(file: string, temp: string, keep: (offset: number, text: string) => boolean): void {
  const fd = openSync(temp, "w");
  try {
    let batch: string[] = [];
    let size = 0;
    const write = () => {
      if (batch.length > 0) writeSync(fd, batch.join(""));
      batch = [];
      size = 0;
    };
    for (const line of fileLines(file)) {
      if (!keep(line.offset, line.text)) continue;
      batch.push(line.text + "\n");
      size += line.text.length;
      if (size > 1 << 20) write();
    }
    write();
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A hard link (instant, no space); a copy where the file system has none. */
function keepCopy(file: string, copy: string): void {
  try {
    linkSync(file, copy);
  } catch {
    copyFileSync(file, copy);
  }
}

function keyOf(text: string): string | undefined {
  try {
    const key = (JSON.parse(text) as { key?: unknown } | null)?.key;
    return typeof key === "string" ? key : undefined;
  } catch {
    return undefined;
  }
}
