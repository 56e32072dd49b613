import type { Estimate } from "../metrics/intervals.js";
import type { GroupSummary, RunSummary } from "../metrics/summary.js";
import { headlineIsRate } from "./metric-kind.js";

function percent(estimate: Estimate): string {
  if (estimate.estimate === null) return "—";
  const interval = estimate.ci95 ? ` [${(estimate.ci95[0] * 100).toFixed(1)}, ${(estimate.ci95[1] * 100).toFixed(1)}]` : "";
  return `${(estimate.estimate * 100).toFixed(1)}%${interval}`;
}

function score(estimate: Estimate): string {
  if (estimate.estimate === null) return "—";
  const interval = estimate.ci95 ? ` [${estimate.ci95[0].toFixed(2)}, ${estimate.ci95[1].toFixed(2)}]` : "";
  return `${estimate.estimate.toFixed(3)}${interval}`;
}

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), widths.map((width) => "─".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

const METRIC_HEADER = ["n", "attack success (95% CI)", "overall (95% CI)", "safety (95% CI)", "errors"];

function metricCells(group: GroupSummary): string[] {
  return [String(group.n), percent(group.attack_success_rate), score(group.overall), score(group.safety_score), String(group.errors)];
}

// Runs scored only by other scorers (suites) have no verdict: their tables show counts and errors, and
// each scorer's own table follows.
const COUNT_HEADER = ["n", "errors"];

function countCells(group: GroupSummary): string[] {
  return [String(group.n), String(group.errors)];
}

/** The end-of-run summary printed on the terminal. */
export function renderSummary(summary: RunSummary): string {
  const parts: string[] = [];
  if (summary.headlines.length > 0) {
    const value = (headline: RunSummary["headlines"][number]) => (headlineIsRate(summary, headline) ? percent(headline) : score(headline));
    parts.push(renderTable(["headline", "model", "n", "value (95% CI)"], summary.headlines.map((headline) => [headline.name, headline.model, String(headline.n), value(headline)])));
    parts.push("");
  }
  const verdict = summary.totals.judged > 0 || summary.totals.overall.n > 0;
  const header = verdict ? METRIC_HEADER : COUNT_HEADER;
  const cellsOf = verdict ? metricCells : countCells;
  parts.push(renderTable(["model", "persona", ...header], summary.by_model_persona.map((group) => [group.model, group.persona, ...cellsOf(group)])));
  parts.push("");
  parts.push(renderTable(["category", "model", ...header], summary.by_category.map((group) => [group.category, group.model, ...cellsOf(group)])));
  const scorers = Object.keys(summary.totals.scores);
  for (const name of scorers) {
    const cell = (group: GroupSummary) => {
      const estimate = group.scores[name];
      return estimate ? (estimate.kind === "rate" ? percent(estimate) : score(estimate)) : "—";
    };
    const toxicity = summary.totals.scores[name]?.expected_max_toxicity !== undefined;
    const labelled = summary.totals.scores[name]?.labels !== undefined;
    const header = [name, ...(toxicity ? ["exp. max toxicity", "toxicity prob."] : []), ...(labelled ? ["labels"] : [])];
    const cells = (group: GroupSummary) => {
      const entry = group.scores[name];
      const extra: string[] = [];
      if (toxicity) extra.push(entry?.expected_max_toxicity ? score(entry.expected_max_toxicity) : "—", entry?.toxicity_probability ? percent(entry.toxicity_probability) : "—");
      if (labelled) extra.push(Object.entries(entry?.labels ?? {}).map(([label, count]) => `${label} ${count}`).join(", "));
      return [String(entry?.n ?? 0), cell(group), ...extra];
    };
    parts.push("", `${name} (95% CI)`);
    parts.push(renderTable(["model", "persona", "n", ...header], summary.by_model_persona.map((group) => [group.model, group.persona, ...cells(group)])));
    parts.push(renderTable(["category", "model", "n", ...header], summary.by_category.map((group) => [group.category, group.model, ...cells(group)])));
    if (summary.by_tag.length > 0) {
      parts.push(renderTable(["group", "model", "n", ...header], summary.by_tag.map((group) => [`${group.column}=${group.value}`, group.model, ...cells(group)])));
    }
    const clustered = summary.totals.scores[name]?.clustered;
    if (clustered) {
      const kind = summary.totals.scores[name]!.kind;
      parts.push(`Rows share clusters (${clustered.clusters} of them): clustered (CR1) overall, ${name} is ${kind === "rate" ? percent(clustered) : score(clustered)}; summary.json has it per group.`);
    }
  }
  const errors = Object.entries(summary.errors_by_type);
  if (errors.length > 0) parts.push("", `errors by type: ${errors.map(([type, count]) => `${type} ${count}`).join(", ")}`);
  parts.push("", verdict ? "Attack success: Wilson 95% interval over judged items. Means: t 95% interval." : "Rates: Wilson 95% interval. Means: t 95% interval.");
  if (summary.totals.attack_success_rate_clustered) {
    const clustered = summary.totals.attack_success_rate_clustered;
    parts.push(`Items repeat across epochs, so rows are not independent: clustered by item (${clustered.clusters} items), attack success is ${percent(clustered)} overall; summary.json has it per group.`);
  }
  return parts.join("\n");
}
