import { existsSync, readdirSync, statSync } from "node:fs";
import { folderFiles } from "../results/run-folder.js";
import { runFolderLink } from "../results/run-links.js";
import { join } from "node:path";
import { readManifest, type Manifest } from "../results/manifest.js";
import { LocalRunStore } from "../runner/store/local-store.js";

export interface RunListing {
  run_id: string;
  created_at: string;
  updated_at: string;
  models: string[];
  personas: string[];
  dataset: string;
  judge: string | null;
  /** finished: the last session ended; running: it started or wrote partials.jsonl in the last 30 s; stopped: neither (killed, or resumable). */
  state: "finished" | "running" | "stopped";
  progress: RunProgress;
  has_results: boolean;
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
  const personas = Math.max(1, manifest.personas.length);
  const info = existsSync(files.partials) ? statSync(files.partials) : undefined;
  return {
    ...counts,
    total: manifest.dataset.valid_rows * (manifest.items_per_test ?? manifest.models.length * personas * epochs),
    partials_bytes: info?.size ?? 0,
    partials_modified: info ? info.mtime.toISOString() : null,
  };
}

export async function describeRun(root: string, runId: string): Promise<RunListing | undefined> {
  if (!isRunId(runId)) return undefined;
  const folder = join(root, runId);
  // A run folder that is or holds a symbolic link is skipped, its links never read (run-links.ts).
  if (runFolderLink(folder) !== undefined) return undefined;
  const manifest = await readManifest(folderFiles(folder).manifest).catch(() => undefined);
  if (!manifest) return undefined;
  const progress = await runProgress(folder, manifest);
  const last = manifest.sessions.at(-1);
  // A session with no end is running while it writes (or has just started and not written yet).
  const recently = (time: string | null | undefined) => time !== null && time !== undefined && Date.now() - Date.parse(time) < 30_000;
  const recent = recently(progress.partials_modified) || recently(last?.started_at);
  return {
    run_id: runId,
    created_at: manifest.created_at,
    updated_at: manifest.updated_at,
    models: manifest.models.map((model) => model.address),
    personas: manifest.personas.map((persona) => persona.slug),
    dataset: manifest.dataset.source ?? manifest.dataset.path,
    judge: manifest.judge?.model ?? null,
    state: last?.ended_at ? "finished" : recent ? "running" : "stopped",
    progress,
    has_results: existsSync(folderFiles(folder).parquet),
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
