import type { Estimate } from "../metrics/intervals.js";
import type { GroupSummary } from "../metrics/summary.js";
import { headlineIsRate, primaryEstimate, scorerIsRate } from "./metric-kind.js";
import type { RunReport } from "./report-data.js";

export type TableFormat = "md" | "latex" | "csv";
export type IntervalStyle = "brackets" | "pm";

/** A table before formatting: a caption, a header and rows of cells (numbers already formatted). */
interface PaperTable {
  caption: string;
  header: string[];
  rows: string[][];
}

function cell(estimate: Estimate | undefined, percent: boolean, style: IntervalStyle): string {
  if (!estimate || estimate.estimate === null) return "–";
  const scale = percent ? 100 : 1;
  const digits = percent ? 1 : 3;
  const value = (estimate.estimate * scale).toFixed(digits);
  if (!estimate.ci95) return value;
  const [low, high] = estimate.ci95.map((bound) => bound * scale);
  // ± is the half-width of the interval; Wilson intervals are not symmetric, so [lo, hi] is exact.
  return style === "pm" ? `${value} ± ${((high! - low!) / 2).toFixed(digits)}` : `${value} [${low!.toFixed(digits)}, ${high!.toFixed(digits)}]`;
}

const primaryOf = (run: RunReport, group: GroupSummary | undefined): Estimate | undefined => primaryEstimate(run.primary.scorer, group);

/** The headline tables of a run: its headlines per model, then the primary metric per persona and per category. */
export function paperTables(run: RunReport, style: IntervalStyle): PaperTable[] {
  const models = run.summary.by_model.map((group) => group.model);
  const primaryIsRate = scorerIsRate(run.summary, run.primary.scorer);
  const unit = primaryIsRate ? " (%)" : "";
  const tables: PaperTable[] = [];
  const names = [...new Set(run.summary.headlines.map((entry) => entry.name))];
  if (names.length > 0) {
    const isRate = (name: string) => headlineIsRate(run.summary, run.summary.headlines.find((headline) => headline.name === name)!);
    tables.push({
      caption: `Headline metrics, run ${run.manifest.run_id} (95% intervals)`,
      header: ["Model", ...names.map((name) => `${name}${isRate(name) ? " (%)" : ""}`)],
      rows: models.map((model) => [model, ...names.map((name) => cell(run.summary.headlines.find((entry) => entry.name === name && entry.model === model), isRate(name), style))]),
    });
  } else {
    tables.push({
      caption: `${run.primary.label} by model, run ${run.manifest.run_id} (95% intervals)`,
      header: ["Model", "n", `${run.primary.label}${unit}`],
      rows: run.summary.by_model.map((group) => [group.model, String(group.n), cell(primaryOf(run, group), primaryIsRate, style)]),
    });
  }
  const personas = [...new Set(run.summary.by_model_persona.map((group) => group.persona))];
  if (personas.length > 1 || personas[0] !== "none") {
    tables.push({
      caption: `${run.primary.label}${unit} by persona and model (95% intervals)`,
      header: ["Persona", ...models],
      rows: personas.map((persona) => [persona, ...models.map((model) => cell(primaryOf(run, run.summary.by_model_persona.find((group) => group.model === model && group.persona === persona)), primaryIsRate, style))]),
    });
  }
  const tags = [...new Set(run.summary.by_tag.map((group) => `${group.column}=${group.value}`))];
  if (tags.length > 0) {
    tables.push({
      caption: `${run.primary.label}${unit} by ${[...new Set(run.summary.by_tag.map((group) => group.column))].join(", ")} and model (95% intervals)`,
      header: ["Group", ...models],
      rows: tags.map((tag) => [tag, ...models.map((model) => cell(primaryOf(run, run.summary.by_tag.find((group) => `${group.column}=${group.value}` === tag && group.model === model)), primaryIsRate, style))]),
    });
  }
  const categories = [...new Set(run.summary.by_category.map((group) => group.category))].sort();
  tables.push({
    caption: `${run.primary.label}${unit} by category and model (95% intervals)`,
    header: ["Category", ...models],
    rows: categories.map((category) => [category, ...models.map((model) => cell(primaryOf(run, run.summary.by_category.find((group) => group.model === model && group.category === category)), primaryIsRate, style))]),
  });
  return tables;
}

function latexEscape(text: string): string {
  return text.replace(/[\\{}&%$#_^~]/g, (character) => (character === "\\" ? "\\textbackslash{}" : character === "^" ? "\\^{}" : character === "~" ? "\\~{}" : `\\${character}`)).replace(/±/g, "$\\pm$");
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
        .map((entry) => [`**${escape(entry.caption)}**`, "", `| ${entry.header.map(escape).join(" | ")} |`, `|${entry.header.map((_, index) => (index === 0 ? " --- " : " ---: ")).join("|")}|`, ...entry.rows.map((row) => `| ${row.map(escape).join(" | ")} |`)].join("\n"))
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
