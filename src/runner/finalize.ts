import { SummaryBuilder, type RunSummary, type SummaryOptions } from "../metrics/summary.js";
import { readManifest, writeJsonAtomically } from "../results/manifest.js";
import { reclaimMemory } from "../results/reclaim-memory.js";
import { runLens } from "../results/run-lens.js";
import type { ResultRow } from "../results/record.js";
import type { RunFiles } from "../results/run-folder.js";
import type { RunStore } from "./store/types.js";
import { FailureCollector, type FailureSummary } from "./failures.js";

export interface FinalizeOutcome {
  rows: number;
  summary: RunSummary;
  counts: { ok: number; error: number };
  /** The items still failed, by error type, with the first few causes (for the end-of-run terminal summary). */
  failures: FailureSummary;
}

export type { SummaryOptions };

/** What the run knows beside its rows, written into summary.json as it is (per-endpoint counters). */
export type SummaryExtras = Record<string, unknown>;

/**
 * Rewrites results.parquet, results.csv and summary.json for the whole run (every session) from the
 * store's latest row per key, in one streaming pass (the columns were learned as rows were written), so
 * memory does not grow with the run.
 */
export async function finalizeRun(files: RunFiles, runId: string, store: RunStore, options: SummaryOptions, extras: SummaryExtras = {}): Promise<FinalizeOutcome> {
  const summary = new SummaryBuilder(options);
  const failures = new FailureCollector();
  async function* summarised(): AsyncGenerator<ResultRow> {
    for await (const row of store.latestRows()) {
      summary.add(row);
      failures.add(row);
      yield row;
    }
  }
  // The Parquet writer is needed only now, at the end of a run.
  const { writeResultFiles } = await import("../results/result-files.js");
  const rows = await writeResultFiles(files, summarised(), (await store.resultColumns()).columns(options.scorers));
  const built = summary.build(runId);
  // The judges' provenance, and rates corrected by judge-evals beside the run (judge-evidence.ts).
  await (await import("./judge-evidence.js")).addJudgeEvidence(built, files.folder);
  await writeJsonAtomically(files.summary, { ...built, ...extras });
  // The viewer's and the report's item columns, stored now so neither scans results.parquet to open the run.
  const manifest = await readManifest(files.manifest);
  if (manifest) {
    // What the run held is garbage now: collected first, so the index is built in memory the run freed.
    reclaimMemory();
    await (await import("../results/item-index-file.js")).writeItemIndex(files, runLens(manifest));
  }
  return { rows, summary: built, counts: await store.counts(), failures: failures.build() };
}
