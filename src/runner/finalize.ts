import { SummaryBuilder, type HeadlineDefinition, type RunSummary } from "../metrics/summary.js";
import { writeJsonAtomically } from "../results/manifest.js";
import { latestRows } from "../results/partials-reader.js";
import type { ResultRow } from "../results/record.js";
import type { RunFiles } from "../results/run-folder.js";
import type { StateStore } from "../results/state-store.js";

export interface FinalizeOutcome {
  rows: number;
  summary: RunSummary;
  counts: { ok: number; error: number };
}

/**
 * Rewrites results.parquet, results.csv and summary.json for the whole run (every session) from
 * partials.jsonl, in one streaming pass (the columns were learned as rows were written), so memory does
 * not grow with the run.
 */
export interface SummaryOptions {
  headlines?: HeadlineDefinition[];
  clusterBy?: string | undefined;
  groupBy?: string[];
}

export async function finalizeRun(files: RunFiles, runId: string, store: StateStore, options: SummaryOptions = {}): Promise<FinalizeOutcome> {
  const summary = new SummaryBuilder({ clusterBy: options.clusterBy, groupBy: options.groupBy });
  async function* summarised(): AsyncGenerator<ResultRow> {
    for await (const row of latestRows(files.partials, store)) {
      summary.add(row);
      yield row;
    }
  }
  // The Parquet writer is needed only now, at the end of a run.
  const { writeResultFiles } = await import("../results/result-files.js");
  const rows = await writeResultFiles(files, summarised(), store.resultColumns().columns());
  const built = summary.build(runId, options.headlines ?? []);
  await writeJsonAtomically(files.summary, built);
  return { rows, summary: built, counts: store.counts() };
}
