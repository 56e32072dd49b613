import { existsSync, statSync } from "node:fs";
import { folderFiles } from "../results/run-folder.js";
import type { Manifest } from "../results/manifest.js";
import type { ResultRow } from "../results/record.js";
import { readSummary } from "../results/summary-reader.js";
import type { ReportData } from "../reports/report-types.js";
import { readDriftFindings } from "../reports/drift-findings.js";
import { reportItem } from "../reports/report-item.js";
import { primaryWithLabel } from "../reports/run-lens.js";
import { manifestBlock, severityShares, usageWithCost } from "../reports/run-report-blocks.js";
import { SEVERITY_BINS, severityBin } from "../reports/severity.js";
import { VERSION } from "../version.js";
import type { ItemIndex } from "./item-index.js";

/**
 * A finished run's dashboard without reading partials.jsonl: summary.json for the statistics, and the item
 * index (already in memory for the item table) for severity, the worst and failed items and usage. Undefined
 * when the run's final files are older than its partials (a run in progress or resumed since).
 * A drift run also reads its rows once for its findings (drift-findings.ts).
 */
export async function dashboardFromIndex(folder: string, manifest: Manifest, index: ItemIndex, threshold = 0.7): Promise<ReportData | undefined> {
  const summaryFile = folderFiles(folder).summary;
  const partials = folderFiles(folder).partials;
  if (!existsSync(summaryFile) || !existsSync(partials)) return undefined;
  if (statSync(summaryFile).mtimeMs < statSync(partials).mtimeMs || index.mtimeMs < statSync(partials).mtimeMs) return undefined;
  // Checked on read; a summary written by 0.1 is rebuilt from the partials instead (undefined).
  const summary = readSummary(summaryFile);
  if (!summary) return undefined;
  const toItem = async (rows: number[]) => {
    const items = [];
    for (const row of rows) {
      const values = await index.row(row);
      if (values) items.push(reportItem(values as unknown as ResultRow, index.lens, true));
    }
    return items;
  };
  const stats = index.severityStats(threshold, SEVERITY_BINS, severityBin);
  // A drift run's findings need its rows' fidelity and alignment scores, which the index does not hold.
  const drift = await readDriftFindings(folder, manifest);
  return {
    generated_at: new Date().toISOString(),
    tool_version: VERSION,
    runs: [
      {
        manifest: manifestBlock(manifest),
        summary,
        primary: primaryWithLabel(index.lens),
        severity: {
          threshold,
          histogram: stats.histogram,
          above_by_category: severityShares(stats.above.category),
          above_by_persona: severityShares(stats.above.persona),
          worst: await toItem(index.worstRows(25)),
        },
        // Every role's calls, judges' included, as finalize counted them; a summary written before has the targets' only.
        usage: usageWithCost(summary.usage ?? index.usageByModel(), undefined),
        items: [],
        items_total: index.size,
        errors: await toItem(index.errorRows(50)),
        ...(drift ? { drift } : {}),
      },
    ],
    comparison: null,
    comparison_error: null,
  };
}
