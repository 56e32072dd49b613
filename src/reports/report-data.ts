import { folderFiles } from "../results/run-folder.js";
import { SummaryBuilder } from "../metrics/summary.js";
import { runSummaryOptions } from "../metrics/declarations.js";
import { compareRuns, loadComparisonRows } from "../metrics/compare-runs.js";
import { outcomeOf, severityOf } from "../metrics/outcome.js";
import { readManifest } from "../results/manifest.js";
import { comparePins, type PinComparison } from "../results/pins.js";
import { loadLatestRows } from "../results/load-run.js";
import { SEVERITY_BINS, severityBin } from "./severity.js";
import { VERSION } from "../version.js";
import { ItemSample, WorstItems } from "./item-selection.js";
import { reportItem } from "./report-item.js";
import { DriftFindings, inDomainPart, readDriftFindings } from "./drift-findings.js";
import { reportFromIndex } from "./report-from-index.js";
import type { ReportData, ReportOptions, RunReport, SeverityShare } from "./report-types.js";
import { runLens, primaryWithLabel } from "./run-lens.js";
import { manifestBlock, severityShares, usageWithCost } from "./run-report-blocks.js";
import { addJudgeEvidence } from "../runner/judge-evidence.js";

/** The report's shape (see report-types.ts), for the modules that read a report. */
export type {
  DriftFindingsReport,
  DriftFlip,
  DriftTopKl,
  PrimaryMetric,
  ReportCall,
  ReportData,
  ReportItem,
  ReportOptions,
  ReportScore,
  RunReport,
  SeverityShare,
  UsageSummary,
} from "./report-types.js";

/** Builds one run's report in one pass over its latest rows. */
export async function buildRunReport(folder: string, options: ReportOptions = {}): Promise<RunReport> {
  const threshold = options.severityThreshold ?? 0.7;
  const manifest = await readManifest(folderFiles(folder).manifest);
  if (!manifest) throw new Error(`${folder}: no manifest.json`);
  const lens = runLens(manifest);
  // A drift run (a base role): its findings need every row's fidelity and alignment scores, which the item
  // index does not hold; read in the same pass as the rest, or in a pass of their own for a finished run.
  const drift = manifest.roles?.base ? new DriftFindings(inDomainPart(manifest)) : undefined;
  const checkpoints = manifest.models.map((model) => model.address);
  // A finished run: its stored summary and item index, and only the listed rows.
  const stored = reportFromIndex(folder, manifest, lens, options);
  if (stored) {
    const findings = await readDriftFindings(folder, manifest);
    return findings ? { ...stored, drift: findings } : stored;
  }
  const summaryBuilder = new SummaryBuilder({ ...runSummaryOptions(manifest), scorers: [...lens.scorers] });
  const histogram = new Map<string, number[]>();
  const above = { category: new Map<string, { n: number; above: number }>(), persona: new Map<string, { n: number; above: number }>() };
  const worst = new WorstItems(options.worst ?? 25, lens);
  const sample = new ItemSample(options.maxItems ?? 1_000, (row) => reportItem(row, lens, false));
  const errors = new ItemSample(50, (row) => reportItem(row, lens, true));
  let total = 0;
  await loadLatestRows(folder, (row) => {
    total++;
    summaryBuilder.add(row);
    drift?.add(row);
    const inputs = { scores: row.scores, tags: row.tags };
    const outcome = lens.primary ? outcomeOf(inputs, lens.scorers, lens.primary) : null;
    const severity = severityOf(inputs, lens.scorers, lens.primary);
    if (severity !== null) {
      let counts = histogram.get(row.model_slug);
      if (!counts) histogram.set(row.model_slug, (counts = new Array<number>(SEVERITY_BINS).fill(0)));
      counts[severityBin(severity)]!++;
      for (const [kind, group] of [
        ["category", row.category],
        ["persona", row.persona_slug],
      ] as const) {
        const id = `${group}\u0000${row.model_slug}`;
        const entry = above[kind].get(id) ?? { n: 0, above: 0 };
        entry.n++;
        if (severity > threshold) entry.above++;
        above[kind].set(id, entry);
      }
    }
    worst.offer(row, outcome, severity);
    sample.offer(row);
    if (row.status === "error") errors.offer(row);
    return undefined;
  });
  const summary = summaryBuilder.build(manifest.run_id);
  // As at the end of a run (finalize.ts): the judges' provenance, and rates corrected by judge-evals beside it.
  await addJudgeEvidence(summary, folder);
  const shares = (map: Map<string, { n: number; above: number }>): SeverityShare[] =>
    severityShares(
      [...map].map(([id, entry]) => {
        const [group, model] = id.split("\u0000") as [string, string];
        return { group, model, ...entry };
      }),
    );
  return {
    manifest: manifestBlock(manifest),
    summary,
    primary: primaryWithLabel(lens),
    severity: {
      threshold,
      histogram: [...histogram].map(([model, counts]) => ({ model, counts })),
      above_by_category: shares(above.category),
      above_by_persona: shares(above.persona),
      worst: worst.list(),
    },
    usage: usageWithCost(summary.usage ?? [], options.prices),
    items: sample.list(),
    items_total: total,
    errors: errors.list(),
    ...(drift ? { drift: drift.build(checkpoints) } : {}),
  };
}

/** The report of one run, or of two with their paired comparison (B against A). */
export async function buildReportData(folders: string[], options: ReportOptions = {}): Promise<ReportData> {
  const runs: RunReport[] = [];
  for (const folder of folders) runs.push(await buildRunReport(folder, options));
  let comparison: ReportData["comparison"] = null;
  let comparisonError: string | null = null;
  let settings: PinComparison | null = null;
  if (folders.length === 2) {
    settings = comparePins(await readManifest(folderFiles(folders[0]!).manifest), await readManifest(folderFiles(folders[1]!).manifest));
    try {
      const result = compareRuns(await loadComparisonRows(folders[0]!), await loadComparisonRows(folders[1]!));
      comparison = { ...result, a: runs[0]!.manifest.run_id, b: runs[1]!.manifest.run_id, onlyInA: result.onlyInA.slice(0, 100), onlyInB: result.onlyInB.slice(0, 100) };
    } catch (error) {
      comparisonError = (error as Error).message;
    }
  }
  return { generated_at: new Date().toISOString(), tool_version: VERSION, runs, comparison, comparison_error: comparisonError, settings };
}
