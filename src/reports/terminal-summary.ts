import { judgingNotes } from "./judging-notes.js";
import type { Breakdown, GroupSummary, RunSummary } from "../metrics/summary-types.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import { inertLine } from "../common/inert-text.js";
import { clusterHeading, clusterMethods } from "./cluster-note.js";
import { breakdownOf, byModelBreakdowns, formatEstimate, formatMetric, headlineIsRate, metricEstimate } from "./metric-kind.js";

/** A table with aligned columns; each cell is made one inert line (a newline or escape in a name cannot break it). */
export function renderTable(titles: string[], body: string[][]): string {
  const header = titles.map(inertLine);
  const rows = body.map((row) => row.map(inertLine));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), widths.map((width) => "─".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

const COUNT_HEADER = ["n", "errors"];

/** A median or maximum: whole numbers as they are, others to one decimal. */
function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A scorer's columns: each metric it declares (with its aggregates), from the summary alone. */
function scorerColumns(summary: RunSummary, scorer: ScorerDeclaration): { header: string[]; cells: (group: GroupSummary) => string[] } {
  const totals = summary.totals.scores[scorer.name] ?? {};
  const metrics = scorer.metrics.filter((metric) => totals[metric.name] !== undefined);
  const header: string[] = [];
  const parts: Array<(group: GroupSummary) => string[]> = [];
  for (const metric of metrics) {
    const ref = { scorer: scorer.name, metric: metric.name };
    const toxicity = totals[metric.name]?.expected_max_toxicity !== undefined;
    const labelled = totals[metric.name]?.labels !== undefined;
    const distribution = totals[metric.name]?.median !== undefined;
    // One metric: the table is titled by the scorer and the column keeps its name (as 0.1 printed it).
    header.push(
      metrics.length === 1 ? scorer.name : metric.label,
      ...(distribution ? ["median", "max"] : []),
      ...(toxicity ? ["exp. max toxicity", "toxicity prob."] : []),
      ...(labelled ? [metric.labels_title ?? "labels"] : []),
    );
    parts.push((group) => {
      const entry = metricEstimate(group, ref);
      const cells = [formatMetric(summary, ref, entry)];
      if (distribution) cells.push(formatNumber(entry?.median), formatNumber(entry?.max));
      if (toxicity) cells.push(formatEstimate(entry?.expected_max_toxicity, "mean"), formatEstimate(entry?.toxicity_probability, "rate"));
      if (labelled)
        cells.push(
          Object.entries(entry?.labels ?? {})
            .map(([label, count]) => `${label} ${count}`)
            .join(", "),
        );
      return cells;
    });
  }
  return { header: ["n", ...header, "errors"], cells: (group) => [String(group.n), ...parts.flatMap((part) => part(group)), String(group.errors)] };
}

/** A two-dimension breakdown's values of a group, as its table's first two columns. */
function groupCells(breakdown: Breakdown, group: GroupSummary): string[] {
  return breakdown.dimensions.slice(0, 2).map((dimension) => group.by[dimension] ?? "");
}

/** The end-of-run summary printed on the terminal, from the summary and the declarations it carries. */
export function renderSummary(summary: RunSummary): string {
  const parts: string[] = [];
  if (summary.headlines.length > 0) {
    const value = (headline: RunSummary["headlines"][number]) => {
      const rate = headlineIsRate(summary, headline);
      return formatEstimate(headline, rate ? "rate" : "mean");
    };
    parts.push(
      renderTable(
        ["headline", "model", "n", "value (95% CI)"],
        summary.headlines.map((headline) => [headline.name, headline.model, String(headline.n), value(headline)]),
      ),
    );
  }
  const modelPersona = breakdownOf(summary, "model", "persona");
  const categoryModel = breakdownOf(summary, "category", "model");
  const others = byModelBreakdowns(summary).filter((breakdown) => breakdown.dimensions[0] !== "category");
  const scored = summary.scorers.filter((scorer) => summary.totals.scores[scorer.name] !== undefined);
  if (scored.length === 0) {
    // Nothing scored (responses only): counts and errors.
    if (modelPersona)
      parts.push(
        ...(parts.length > 0 ? [""] : []),
        renderTable(
          ["model", "persona", ...COUNT_HEADER],
          modelPersona.groups.map((group) => [group.by.model!, group.by.persona!, String(group.n), String(group.errors)]),
        ),
      );
    if (categoryModel)
      parts.push(
        "",
        renderTable(
          ["category", "model", ...COUNT_HEADER],
          categoryModel.groups.map((group) => [group.by.category!, group.by.model!, String(group.n), String(group.errors)]),
        ),
      );
  }
  const notes: string[] = [];
  const clusteredKinds = new Set<string>();
  let clusters = 0;
  for (const scorer of scored) {
    const { header, cells } = scorerColumns(summary, scorer);
    parts.push(...(parts.length > 0 ? [""] : []), `${scorer.name} (95% CI)`);
    if (modelPersona)
      parts.push(
        renderTable(
          ["model", "persona", ...header],
          modelPersona.groups.map((group) => [...groupCells(modelPersona, group), ...cells(group)]),
        ),
      );
    if (categoryModel)
      parts.push(
        renderTable(
          ["category", "model", ...header],
          categoryModel.groups.map((group) => [...groupCells(categoryModel, group), ...cells(group)]),
        ),
      );
    for (const breakdown of others) {
      if (breakdown.groups.length === 0) continue;
      parts.push(
        renderTable(
          ["group", "model", ...header],
          breakdown.groups.map((group) => [`${breakdown.dimensions[0]}=${group.by[breakdown.dimensions[0]!]}`, group.by.model!, ...cells(group)]),
        ),
      );
    }
    parts.push(...judgingNotes(summary, scorer.name));
    const clustered = scorer.metrics.flatMap((metric) => {
      const estimate = summary.totals.scores[scorer.name]?.[metric.name]?.clustered;
      return estimate ? [{ metric, estimate }] : [];
    });
    if (clustered.length > 0) {
      clusters = clustered[0]!.estimate.clusters;
      for (const { metric } of clustered) clusteredKinds.add(metric.kind.type);
      notes.push(`  ${scorer.name}: ${clustered.map(({ metric, estimate }) => `${metric.label} ${formatMetric(summary, { scorer: scorer.name, metric: metric.name }, estimate)}`).join(", ")}`);
    }
  }
  // Said only when rows do share a cluster, naming the cluster used and what repeats it.
  if (notes.length > 0) notes.unshift(`${clusterHeading(summary, clusters)} (${clusterMethods(clusteredKinds)}). Overall, clustered (summary.json has it per group):`);
  const errors = Object.entries(summary.errors_by_type);
  if (errors.length > 0) parts.push("", `errors by type: ${errors.map(([type, count]) => `${type} ${count}`).join(", ")}`);
  const kinds = new Set(summary.scorers.flatMap((scorer) => scorer.metrics.map((metric) => metric.kind.type)));
  const legend = [
    ...(kinds.has("rate") ? ["Rates: Wilson 95% interval."] : []),
    ...(kinds.has("bounded") ? ["Bounded means: t 95% interval within their range."] : []),
    ...(kinds.has("unbounded") ? ["Unbounded means: t 95% interval."] : []),
  ];
  if (legend.length > 0) parts.push("", legend.join(" "));
  if (notes.length > 0) parts.push(...notes);
  return parts.join("\n");
}
