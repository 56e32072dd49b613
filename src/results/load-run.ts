import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { LocalRunStore } from "../runner/store/local-store.js";
import { folderFiles, runFiles } from "./run-folder.js";
import { refuseRunFolderLinks } from "./run-links.js";
import type { ResultRow } from "./record.js";

/** A run id under the output folder, or the path of a run folder; refused when it is or holds a symbolic link. */
export function locateRun(reference: string, outputDir = "results"): { outputDir: string; runId: string } {
  if (existsSync(folderFiles(reference).manifest)) {
    refuseRunFolderLinks(reference);
    const folder = resolve(reference);
    return { outputDir: resolve(folder, ".."), runId: folder.split(/[\\/]/).pop()! };
  }
  if (existsSync(runFiles(outputDir, reference).manifest)) {
    refuseRunFolderLinks(runFiles(outputDir, reference).folder);
    return { outputDir: resolve(outputDir), runId: reference };
  }
  throw new UserError(`no run "${reference}": neither ${join(outputDir, reference)} nor ${reference} holds a manifest.json`);
}

/** The folder of a run given by id (under the output folder) or by path. */
export function locateRunFolder(reference: string, outputDir = "results"): string {
  const { outputDir: parent, runId } = locateRun(reference, outputDir);
  return join(parent, runId);
}

/**
 * Streams a run's latest row per key, selecting with `pick` (only what passes is held). Read-only: the
 * run may be in progress in another process.
 */
export async function loadLatestRows<T>(folder: string, pick: (row: ResultRow) => T | undefined): Promise<T[]> {
  const store = LocalRunStore.reader(folder);
  try {
    const out: T[] = [];
    for await (const row of store.latestRows()) {
      const kept = pick(row);
      if (kept !== undefined) out.push(kept);
    }
    return out;
  } finally {
    await store.close();
  }
}
