import type { Estimate } from "../metrics/intervals.js";
import type { RunSummary } from "../metrics/summary-types.js";
import { clusterDescription, clusterMethods } from "./cluster-note.js";
import { breakdownOf, byModelBreakdowns, groupOf, headlineIsRate, metricEstimate, metricIsRate, metricLabel, metricUnit, modelsOf, primaryMetric } from "./metric-kind.js";

export type TableFormat = "md" | "latex" | "csv";
export type IntervalStyle = "brackets" | "pm";

/** A table before formatting: a caption, a header and rows of cells (numbers already formatted). */
interface PaperTable {
  caption: string;
  header: string[];
  rows: string[][];
}

/** Which kinds of metric (rate, mean) a table shows with clustered intervals. */
interface Clustered {
  kinds: Set<string>;
}

/** An estimate that may carry its clustered version (a metric summary or a headline). */
type Clusterable = Estimate & { clustered?: Estimate | undefined };

/**
 * A number with its interval: the clustered one where rows share a cluster (epochs, personas…), since the
 * plain one would count an item's repeats as independent evidence. `used` records that one was taken, so
 * the caption says so.
 */
function cell(source: Clusterable | undefined, percent: boolean, style: IntervalStyle, used?: Clustered): string {
  const estimate = source?.clustered?.ci95 ? source.clustered : source;
  if (source?.clustered?.ci95) used?.kinds.add(percent ? "rate" : "mean");
  if (!estimate || estimate.estimate === null) return "–";
  const scale = percent ? 100 : 1;
  const digits = percent ? 1 : 3;
  const value = (estimate.estimate * scale).toFixed(digits);
  if (!estimate.ci95) return value;
  const [low, high] = estimate.ci95.map((bound) => bound * scale);
  // ± is the half-width of the interval; Wilson intervals are not symmetric, so [lo, hi] is exact.
  return style === "pm" ? `${value} ± ${((high! - low!) / 2).toFixed(digits)}` : `${value} [${low!.toFixed(digits)}, ${high!.toFixed(digits)}]`;
}

/** What the tables are made from: a run's id and its summary (a RunReport is one). */
export interface PaperTableRun {
  manifest: { run_id: string };
  summary: RunSummary;
}

/** " (%)" for a rate, " (unit)" for an unbounded mean with a unit, else nothing. */
function unitSuffix(unit: string): string {
  return unit ? ` (${unit})` : "";
}

/**
 * The headline tables of a run: its headlines per model (else its primary metric per model), then the
 * primary metric per persona, per tag value or extra dimension, and per category. Everything comes from
 * the summary's declarations: labels, whether a number is a rate, and its unit.
 */
export function paperTables(run: PaperTableRun, style: IntervalStyle): PaperTable[] {
  const tables = buildTables(run, style);
  // The caption names the method only for a table that used it.
  return tables.map(({ used, ...table }) =>
    used.kinds.size > 0 ? { ...table, caption: table.caption.replace(/\(95% intervals\)$/, `(95% intervals, ${clusteredCaption(run.summary, used.kinds)})`) } : table,
  );
}

/** "clustered by test item, as rows repeat a test item across epochs (100 items); rates: Wilson…" */
function clusteredCaption(summary: Pick<RunSummary, "clustering">, kinds: Set<string>): string {
  if (!summary.clustering) return `clustered; ${clusterMethods(kinds)}`;
  return `clustered by ${summary.clustering.by === "test" ? "test item" : summary.clustering.by}, as rows repeat ${clusterDescription(summary.clustering)}; ${clusterMethods(kinds)}`;
}

function buildTables(run: PaperTableRun, style: IntervalStyle): Array<PaperTable & { used: Clustered }> {
  const summary = run.summary;
  const models = modelsOf(summary);
  const primary = primaryMetric(summary);
  const tables: Array<PaperTable & { used: Clustered }> = [];
  // Each table's cells note which kinds took a clustered interval (a fresh record per table).
  let used: Clustered = { kinds: new Set() };
  const next = () => (used = { kinds: new Set() });
  const names = [...new Set(summary.headlines.map((entry) => entry.name))];
  if (names.length > 0) {
    const first = (name: string) => summary.headlines.find((headline) => headline.name === name)!;
    const isRate = (name: string) => headlineIsRate(summary, first(name));
    const unit = (name: string) => (isRate(name) ? "%" : first(name).statistic === "mean" ? metricUnit(summary, first(name)) : "");
    tables.push({
      used: next(),
      caption: `Headline metrics, run ${run.manifest.run_id} (95% intervals)`,
      header: ["Model", ...names.map((name) => `${name}${unitSuffix(unit(name))}`)],
      rows: models.map((model) => [
        model,
        ...names.map((name) =>
          cell(
            summary.headlines.find((entry) => entry.name === name && entry.model === model),
            isRate(name),
            style,
            used,
          ),
        ),
      ]),
    });
  }
  if (!primary) return tables;
  const label = metricLabel(summary, primary);
  const rate = metricIsRate(summary, primary);
  const unit = unitSuffix(metricUnit(summary, primary));
  const byModel = breakdownOf(summary, "model");
  if (names.length === 0) {
    tables.push({
      used: next(),
      caption: `${label} by model, run ${run.manifest.run_id} (95% intervals)`,
      header: ["Model", "n", `${label}${unit}`],
      rows: (byModel?.groups ?? []).map((group) => [group.by.model!, String(group.n), cell(metricEstimate(group, primary), rate, style, used)]),
    });
  }
  const modelPersona = breakdownOf(summary, "model", "persona");
  const personas = [...new Set((modelPersona?.groups ?? []).map((group) => group.by.persona!))];
  if (personas.length > 1 || (personas.length === 1 && personas[0] !== "none")) {
    tables.push({
      used: next(),
      caption: `${label}${unit} by persona and model (95% intervals)`,
      header: ["Persona", ...models],
      rows: personas.map((persona) => [persona, ...models.map((model) => cell(metricEstimate(groupOf(modelPersona, { model, persona }), primary), rate, style, used))]),
    });
  }
  // Tag columns and extra dimensions (strategy, checkpoint…), each value against the models.
  const others = byModelBreakdowns(summary).filter((breakdown) => breakdown.dimensions[0] !== "category");
  next();
  const rows = others.flatMap((breakdown) => {
    const dimension = breakdown.dimensions[0]!;
    const values = [...new Set(breakdown.groups.map((group) => group.by[dimension]!))];
    return values.map((value) => [`${dimension}=${value}`, ...models.map((model) => cell(metricEstimate(groupOf(breakdown, { [dimension]: value, model }), primary), rate, style, used))]);
  });
  if (rows.length > 0) {
    tables.push({
      used,
      caption: `${label}${unit} by ${others
        .filter((breakdown) => breakdown.groups.length > 0)
        .map((breakdown) => breakdown.dimensions[0])
        .join(", ")} and model (95% intervals)`,
      header: ["Group", ...models],
      rows,
    });
  }
  const categoryModel = breakdownOf(summary, "category", "model");
  const categories = [...new Set((categoryModel?.groups ?? []).map((group) => group.by.category!))].sort();
  tables.push({
    used: next(),
    caption: `${label}${unit} by category and model (95% intervals)`,
    header: ["Category", ...models],
    rows: categories.map((category) => [category, ...models.map((model) => cell(metricEstimate(groupOf(categoryModel, { category, model }), primary), rate, style, used))]),
  });
  return tables;
}

function latexEscape(text: string): string {
  return text
    .replace(/[\\{}&%$#_^~]/g, (character) => (character === "\\" ? "\\textbackslash{}" : character === "^" ? "\\^{}" : character === "~" ? "\\~{}" : `\\${character}`))
    .replace(/±/g, "$\\pm$");
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) || /^[=+\-@]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatTables(tables: PaperTable[], format: TableFormat): string {
  if (format === "csv") {
    return tables.map((entry) => [`# ${entry.caption}`, entry.header.map(csvCell).join(","), ...entry.rows.map((row) => row.map(csvCell).join(","))].join("\n")).join("\n\n") + "\n";
  }
  if (format === "md") {
    const escape = (text: string) => text.replace(/\|/g, "\\|");
    return (
      tables
        .map((entry) =>
          [
            `**${escape(entry.caption)}**`,
            "",
            `| ${entry.header.map(escape).join(" | ")} |`,
            `|${entry.header.map((_, index) => (index === 0 ? " --- " : " ---: ")).join("|")}|`,
            ...entry.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
          ].join("\n"),
        )
        .join("\n\n") + "\n"
    );
  }
  return (
    tables
      .map((entry) =>
        [
          "\\begin{table}[t]",
          "\\centering",
          `\\caption{${latexEscape(entry.caption)}}`,
          `\\begin{tabular}{l${"r".repeat(entry.header.length - 1)}}`,
          "\\toprule",
          `${entry.header.map(latexEscape).join(" & ")} \\\\`,
          "\\midrule",
          ...entry.rows.map((row) => `${row.map(latexEscape).join(" & ")} \\\\`),
          "\\bottomrule",
          "\\end{tabular}",
          "\\end{table}",
        ].join("\n"),
      )
      .join("\n\n") + "\n"
  );
}
