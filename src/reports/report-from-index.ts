import type { Texts } from "../results/column-file.js";
import { statSync } from "node:fs";
import { ColumnFileProblem } from "../results/column-file.js";
import { OUTCOMES } from "../results/item-columns.js";
import { readItemIndex } from "../results/item-index-file.js";
import type { Manifest } from "../results/manifest.js";
import { readLatestRows } from "../results/latest-rows.js";
import type { ResultRow } from "../results/record.js";
import { folderFiles } from "../results/run-folder.js";
import type { RunLens } from "../results/run-lens.js";
import { readSummary } from "../results/summary-reader.js";
import { byKey, Reservoir } from "./item-selection.js";
import { reportItem } from "./report-item.js";
import type { ReportItem, ReportOptions, RunReport } from "./report-types.js";
import { primaryWithLabel } from "./run-lens.js";
import { manifestBlock, severityShares, usageWithCost } from "./run-report-blocks.js";
import { SEVERITY_BINS, severityBin } from "./severity.js";

/**
 * A finished run's report without parsing every row of partials.jsonl: the statistics from summary.json,
 * severity, usage and which items to list from items.index, and only the listed rows read from
 * partials.jsonl (at the offsets state.sqlite keeps). The same report buildRunReport makes from every row
 * (the tests compare them). Undefined when any of these files is missing, stale (rows were written after
 * the run finalised) or does not match results.parquet: the caller then reads every row.
 */
export function reportFromIndex(folder: string, manifest: Manifest, lens: RunLens, options: ReportOptions = {}): RunReport | undefined {
  const files = folderFiles(folder);
  const changed = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  const partialsChanged = changed(files.partials);
  const written = [changed(files.summary), changed(files.parquet), changed(files.itemIndex)];
  if (partialsChanged === undefined || written.some((time) => time === undefined || time < partialsChanged)) return undefined;
  const summary = readSummary(files.summary);
  if (!summary) return undefined;
  let columns: ReturnType<typeof readItemIndex>["columns"];
  try {
    columns = readItemIndex(files, lens).columns;
  } catch (error) {
    if (error instanceof ColumnFileProblem) return undefined;
    throw error;
  }
  const { size, coded, severity, outcome, rank } = columns;
  const threshold = options.severityThreshold ?? 0.7;
  // Counted by dictionary code (no string per row), named afterwards; models in the order rows show them.
  const models = coded.model.values.length + 1;
  const histogram = new Map<number, number[]>();
  const above = { category: new Map<number, { n: number; above: number }>(), persona: new Map<number, { n: number; above: number }>() };
  const sample = new Reservoir<number>(options.maxItems ?? 1_000);
  const errors = new Reservoir<number>(50);
  const errorCode = coded.status.codeOf("error");
  const ranked: number[] = [];
  for (let row = 0; row < size; row++) {
    const model = coded.model.codes[row]!;
    const value = severity[row]!;
    if (!Number.isNaN(value)) {
      let counts = histogram.get(model);
      if (!counts) histogram.set(model, (counts = new Array<number>(SEVERITY_BINS).fill(0)));
      counts[severityBin(value)]!++;
      for (const kind of ["category", "persona"] as const) {
        const id = (coded[kind].codes[row]! + 1) * models + model + 1;
        let entry = above[kind].get(id);
        if (!entry) above[kind].set(id, (entry = { n: 0, above: 0 }));
        entry.n++;
        if (value > threshold) entry.above++;
      }
    }
    // As worstRank: a bad row by its severity, a neutral one by its directed unbounded value.
    const result = OUTCOMES[outcome[row]!];
    if ((result === "bad" && !Number.isNaN(value)) || (result === "neutral" && Number.isFinite(rank[row]!))) ranked.push(row);
    sample.offer(() => row);
    if (coded.status.codes[row] === errorCode) errors.offer(() => row);
  }
  const modelName = (code: number) => coded.model.values[code] ?? "";
  // The shares by group and model, merged by name (the report reads rows' names, not codes).
  const shares = (kind: "category" | "persona") => {
    const merged = new Map<string, { group: string; model: string; n: number; above: number }>();
    for (const [id, entry] of above[kind]) {
      const group = coded[kind].values[Math.floor(id / models) - 1] ?? "";
      const model = modelName((id % models) - 1);
      const name = `${group}\u0000${model}`;
      const total = merged.get(name) ?? { group, model, n: 0, above: 0 };
      total.n += entry.n;
      total.above += entry.above;
      merged.set(name, total);
    }
    return severityShares([...merged.values()]);
  };
  const rankOf = (row: number) => (OUTCOMES[outcome[row]!] === "bad" ? severity[row]! : rank[row]!);
  const worst = ranked.sort((a, b) => rankOf(b) - rankOf(a) || a - b).slice(0, options.worst ?? 25);
  const rows = readRows(folder, columns.keys, [...worst, ...sample.items, ...errors.items]);
  if (!rows) return undefined;
  const items = (indices: number[], full: boolean): ReportItem[] => indices.map((index) => reportItem(rows.get(index)!, lens, full));
  return {
    manifest: manifestBlock(manifest),
    summary,
    primary: primaryWithLabel(lens),
    severity: {
      threshold,
      histogram: [...histogram].map(([model, counts]) => ({ model: modelName(model), counts })),
      above_by_category: shares("category"),
      above_by_persona: shares("persona"),
      worst: items(worst, true),
    },
    // Every call behind the rows, per model and role, as summary.json counts them (the same as a report read from every row).
    usage: usageWithCost(summary.usage ?? [], options.prices),
    items: byKey(items(sample.items, false)),
    items_total: size,
    errors: byKey(items(errors.items, true)),
  };
}

/** The latest row of each listed item, from partials.jsonl; undefined when one is not where state.sqlite says. */
function readRows(folder: string, keys: Texts, indices: number[]): Map<number, ResultRow> | undefined {
  const latest = readLatestRows(
    folder,
    indices.map((index) => keys.at(index)!),
  );
  return latest && new Map(indices.map((index) => [index, latest.get(keys.at(index)!)!]));
}
