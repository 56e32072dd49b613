import { existsSync, readdirSync, statSync } from "node:fs";
import { folderFiles } from "../results/run-folder.js";
import { runFolderLink } from "../results/run-links.js";
import { join } from "node:path";
import { readManifest, type Manifest } from "../results/manifest.js";
import { LocalRunStore } from "../runner/store/local-store.js";
import { NO_PERSONA } from "../personas/persona.js";
import { runHeadlines, type BoardHeadline } from "./run-headlines.js";
import { runState, type RunState } from "./run-state.js";

export type { BoardHeadline, RunState };

export interface RunListing {
  run_id: string;
  created_at: string;
  updated_at: string;
  models: string[];
  /** The persona dimension's values, "none" included. */
  personas: string[];
  dataset: string;
  judge: string | null;
  /** What the run is doing or how it ended (run-state.ts). */
  state: RunState;
  progress: RunProgress;
  has_results: boolean;
  /** Its headline numbers by model, from summary.json (empty until the run has finished once). */
  headlines: BoardHeadline[];
  /** Why the headlines could not be read (a damaged summary.json), when they could not. */
  headlines_error?: string;
}

export interface RunProgress {
  ok: number;
  error: number;
  /** Keys the run will hold when done: rows × models × personas × epochs. */
  total: number;
  partials_bytes: number;
  partials_modified: string | null;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Whether a name can be a run folder under the root (and so never a path elsewhere). */
export function isRunId(name: string): boolean {
  return RUN_ID.test(name) && name !== "." && name !== "..";
}

/** Counts done and failed keys through the run's store, opened read-only: the viewer never writes. */
export async function runProgress(folder: string, manifest: Manifest): Promise<RunProgress> {
  let counts = { ok: 0, error: 0 };
  const files = folderFiles(folder);
  if (existsSync(files.state)) {
    const store = LocalRunStore.reader(folder);
    try {
      counts = await store.counts();
    } finally {
      await store.close();
    }
  }
  const epochs = Number(manifest.config.epochs ?? 1);
  const personas = personaSlugs(manifest).length;
  const info = existsSync(files.partials) ? statSync(files.partials) : undefined;
  return {
    ...counts,
    total: manifest.dataset.valid_rows * (manifest.items_per_test ?? manifest.models.length * personas * epochs),
    partials_bytes: info?.size ?? 0,
    partials_modified: info ? info.mtime.toISOString() : null,
  };
}

/**
 * The persona dimension's values. The manifest's persona list leaves out "none" (it is no persona), so the
 * count comes from the run's config, where "none" is one value like the others: counting the list alone made
 * a run of none + one persona expect half its keys (and show "40 of 20 keys").
 */
export function personaSlugs(manifest: Manifest): string[] {
  const configured = manifest.config.personas;
  if (Array.isArray(configured) && configured.length > 0 && configured.every((slug) => typeof slug === "string")) return configured as string[];
  return manifest.personas.length > 0 ? manifest.personas.map((persona) => persona.slug) : [NO_PERSONA];
}

export async function describeRun(root: string, runId: string): Promise<RunListing | undefined> {
  if (!isRunId(runId)) return undefined;
  const folder = join(root, runId);
  // A run folder that is or holds a symbolic link is skipped, its links never read (run-links.ts).
  if (runFolderLink(folder) !== undefined) return undefined;
  const manifest = await readManifest(folderFiles(folder).manifest).catch(() => undefined);
  if (!manifest) return undefined;
  const files = folderFiles(folder);
  const progress = await runProgress(folder, manifest);
  const hasResults = existsSync(files.parquet);
  const state = runState({ lockFile: files.lock, lastSession: manifest.sessions.at(-1), finalFiles: hasResults && existsSync(files.summary), progress });
  let headlines: BoardHeadline[] = [];
  let headlinesError: string | undefined;
  try {
    headlines = runHeadlines(files.summary);
  } catch (error) {
    // One damaged summary.json must not hide every other run: its row says what is wrong.
    headlinesError = (error as Error).message;
  }
  return {
    run_id: runId,
    created_at: manifest.created_at,
    updated_at: manifest.updated_at,
    models: manifest.models.map((model) => model.address),
    personas: personaSlugs(manifest),
    dataset: manifest.dataset.source ?? manifest.dataset.path,
    judge: manifest.judge?.model ?? null,
    state,
    progress,
    has_results: hasResults,
    headlines,
    ...(headlinesError ? { headlines_error: headlinesError } : {}),
  };
}

/** The run folders directly under the root, newest first. */
export async function listRuns(root: string): Promise<RunListing[]> {
  const names = existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && isRunId(entry.name))
        .map((entry) => entry.name)
    : [];
  const runs = (await Promise.all(names.map((name) => describeRun(root, name)))).filter((run): run is RunListing => run !== undefined);
  return runs.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.run_id < b.run_id ? 1 : -1));
}
