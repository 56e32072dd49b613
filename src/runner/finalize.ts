import { SummaryBuilder, type RunSummary } from "../metrics/summary.js";
import { writeJsonAtomically } from "../results/manifest.js";
import { latestRows } from "../results/partials-reader.js";
import { ResultColumns } from "../results/result-columns.js";
import { writeResultFiles } from "../results/result-files.js";
import type { RunFiles } from "../results/run-folder.js";
import type { StateStore } from "../results/state-store.js";

export interface FinalizeOutcome {
  rows: number;
  summary: RunSummary;
  counts: { ok: number; error: number };
}

/**
 * Rewrites results.parquet, results.csv and summary.json for the whole run (every session) from
 * partials.jsonl. Two streaming passes: the first learns the judge's columns and the summary, the
 * second writes the files, so memory does not grow with the run.
 */
export async function finalizeRun(files: RunFiles, runId: string, store: StateStore): Promise<FinalizeOutcome> {
  const columns = new ResultColumns();
  const summary = new SummaryBuilder();
  for await (const row of latestRows(files.partials, store)) {
    columns.observe(row);
    summary.add(row);
  }
  const rows = await writeResultFiles(files, latestRows(files.partials, store), columns.columns());
  const built = summary.build(runId);
  await writeJsonAtomically(files.summary, built);
  return { rows, summary: built, counts: store.counts() };
}
