import { basename, dirname, extname, join } from "node:path";
import { UserError } from "../../errors.js";
import { checkOutputFile, writeOutputFile } from "../../io/output-file.js";
import { readTable, writeTable } from "../table-file.js";
import { dedupFingerprints, fingerprints, type DedupOptions } from "./dedup.js";

export interface DedupFileOptions extends DedupOptions {
  input: string;
  /** The column holding the text compared (default prompt). */
  field?: string;
  /** The kept rows (default INPUT.dedup.csv, or .jsonl for JSONL input). */
  output?: string;
  /** The clusters report (default OUTPUT with .clusters.json). */
  clusters?: string;
  onPhase?: (message: string) => void;
}

export interface DedupFileReport {
  input: string;
  output: string;
  clusters_file: string;
  field: string;
  tau: number;
  shingle: number;
  rows: number;
  kept: number;
  removed: number;
  clusters: number;
  index: { tables: number; permutations: number; recall_at_tau: number; certain_up_to: number; seed: number; candidates: number; pairs_within_tau: number };
  seconds: number;
}

/** Output paths: beside the input, named after it. */
export function dedupPaths(input: string, output?: string, clusters?: string): { output: string; clusters: string } {
  const extension = extname(input).toLowerCase() === ".jsonl" ? ".jsonl" : ".csv";
  const kept = output ?? join(dirname(input), `${basename(input, extname(input))}.dedup${extension}`);
  return { output: kept, clusters: clusters ?? join(dirname(kept), `${basename(kept, extname(kept))}.clusters.json`) };
}

/**
 * `dataset dedup`: reads a file, removes near-duplicate rows (SimHash within τ), writes the kept rows with all
 * their columns and a JSON report of every cluster (the kept row and the removed ones, by line and id).
 * It calls no model and runs in seconds, so it is not a resumable run: rerunning it gives the same files.
 */
export async function dedupFile(options: DedupFileOptions): Promise<DedupFileReport> {
  const started = performance.now();
  const field = options.field ?? "prompt";
  const paths = dedupPaths(options.input, options.output, options.clusters);
  if (paths.output === options.input) throw new UserError(`--output ${paths.output} is the input file: choose another name`);
  checkOutputFile(paths.output);
  checkOutputFile(paths.clusters);
  options.onPhase?.(`reading ${options.input}`);
  const { rows, columns } = await readTable(options.input, [field]);
  options.onPhase?.(`fingerprinting ${rows.length.toLocaleString("en")} rows (SimHash, ${options.shingle ?? 3}-word shingles)`);
  const { his, los } = fingerprints(
    rows.map((row) => row.value[field] as string),
    options.shingle,
  );
  options.onPhase?.("finding near-duplicates (permuted tables)");
  const result = dedupFingerprints(his, los, options);
  const idOf = (index: number) => {
    const row = rows[index]!;
    return { line: row.line, ...(row.value.id !== undefined ? { id: String(row.value.id) } : row.value.row_index !== undefined ? { id: String(row.value.row_index) } : {}) };
  };
  writeTable(
    paths.output,
    columns,
    rows.filter((_, i) => result.keep[i]).map((row) => row.value),
  );
  const report: DedupFileReport = {
    input: options.input,
    output: paths.output,
    clusters_file: paths.clusters,
    field,
    tau: result.index.tau,
    shingle: result.shingle,
    rows: result.n,
    kept: result.kept,
    removed: result.removed,
    clusters: result.clusters.length,
    index: {
      tables: result.index.tables,
      permutations: result.index.permutations,
      recall_at_tau: result.index.recall_at_tau,
      certain_up_to: result.index.certain_up_to,
      seed: result.index.seed,
      candidates: result.index.candidates,
      pairs_within_tau: result.index.pairs_within_tau,
    },
    seconds: (performance.now() - started) / 1000,
  };
  const clusterList = result.clusters.map((cluster) => ({
    kept: idOf(cluster.kept),
    removed: cluster.removed.map((entry) => ({ ...idOf(entry.index), distance: entry.distance })),
  }));
  writeOutputFile(paths.clusters, JSON.stringify({ ...report, cluster_list: clusterList }, null, 1) + "\n");
  return report;
}
