import type { ReportData } from "../../src/reports/report-types.js";
import { barsWithIntervals } from "./charts.js";
import { directionText } from "./declared-metrics.js";
import { h, table } from "./dom.js";
import { number, signed, type EstimateLike } from "./format.js";
import { section } from "./section-card.js";
import { clusteringNote } from "../../src/reports/cluster-note.js";
import { pinDifferenceLines, pinWarning, shownPin } from "../../src/results/pins.js";

/** The settings the two runs differ in (pinned in their manifests): a warning and every difference, or nothing. */
function settingsNote(data: ReportData): HTMLElement | null {
  const settings = data.settings;
  if (!settings) return null;
  const warning = pinWarning(settings);
  if (!warning) return h("p", { class: "note settings-same" }, "Both runs were produced with the same pinned settings (dataset, prompts, templates, models' options, versions).");
  if (!settings.comparable) return h("p", { class: "error settings-warning" }, `Warning: ${warning}. ${pinDifferenceLines(settings).join(" ")}`);
  return h(
    "div",
    { class: "settings-warning" },
    h("p", { class: "error" }, `Warning: ${warning}.`),
    table(
      ["setting", "A", "B"],
      settings.differences.map((entry) => [entry.key, shownPin(entry.a, entry.missing === "a"), shownPin(entry.b, entry.missing === "b")]),
      { class: "settings-differences" },
    ),
  );
}

export function renderComparison(data: ReportData): HTMLElement | null {
  if (data.comparison_error) return section("Comparison", "comparison", settingsNote(data), h("p", { class: "error" }, `No paired comparison: ${data.comparison_error}`));
  const c = data.comparison;
  if (!c) return null;
  const level = (metric: (typeof c.metrics)[number], value: number | null) =>
    value === null ? "—" : metric.kind.type === "rate" ? `${(value * 100).toFixed(1)}%` : `${value.toFixed(3)}${metric.kind.type === "unbounded" && metric.kind.unit ? ` ${metric.kind.unit}` : ""}`;
  const change = (metric: Pick<(typeof c.metrics)[number], "kind">, difference: EstimateLike) =>
    metric.kind.type === "rate" ? signed(difference) : signed(difference, 1, metric.kind.type === "unbounded" && metric.kind.unit ? ` ${metric.kind.unit}` : "");
  const test = (metric: (typeof c.metrics)[number]) => {
    const pValue: number | null = metric.test.pValue;
    return `${metric.kind.type === "rate" ? "McNemar" : "paired t"}${pValue === null ? "" : ` p = ${pValue.toPrecision(3)}`}`;
  };
  const clustering = clusteringNote(c);
  const primary = c.primary ? c.metrics.find((metric) => metric.scorer === c.primary!.scorer && metric.metric === c.primary!.metric) : undefined;
  const label = primary?.label ?? "the primary metric";
  // Regressions and improvements follow the primary metric's declared direction; a direction that depends
  // on each item's tag (XSTest) cannot call a category's change either, so changes are listed as such.
  const bad = primary && typeof primary.bad === "string" ? primary.bad : "none";
  const up = c.by_category.filter((entry) => entry.difference.ci95 && entry.difference.ci95[0] > 0);
  const down = c.by_category.filter((entry) => entry.difference.ci95 && entry.difference.ci95[1] < 0);
  const rows = (entries: typeof c.by_category, className: string) =>
    entries.length && primary
      ? table(
          ["category", "n", "B − A"],
          entries.map((entry) => [entry.category, number(entry.n), change(primary, entry.difference)]),
          { class: className },
        )
      : h("p", {}, "None.");
  const lists =
    bad === "none"
      ? [
          h("h3", {}, `Changes in ${label} (interval excludes 0)`),
          rows([...up, ...down], "changes"),
          h("p", { class: "note" }, `${label} has ${primary ? directionText(primary.bad) : "no direction"}, so a change is neither a regression nor an improvement by itself.`),
        ]
      : [
          h("h3", {}, `Regressions (${label} ${bad === "high" ? "up" : "down"}, interval ${bad === "high" ? "above" : "below"} 0)`),
          rows(bad === "high" ? up : down, "regressions"),
          h("h3", {}, `Improvements (${label} ${bad === "high" ? "down" : "up"}, interval ${bad === "high" ? "below" : "above"} 0)`),
          rows(bad === "high" ? down : up, "improvements"),
        ];
  return section(
    `Comparison: ${c.b} − ${c.a}`,
    "comparison",
    h(
      "p",
      {},
      `Paired on ${c.pairs} items (matched by ${c.pairedBy}); B − A with 95% intervals. ${c.onlyInA.length} item(s) only in A and ${c.onlyInB.length} only in B are listed below, not compared.`,
    ),
    settingsNote(data),
    // Said only when rows repeat an item, naming the cluster used and what repeats it.
    clustering ? h("p", { class: "note clustering" }, clustering) : null,
    table(
      ["metric", "n", "A", "B", "B − A (95% CI)", "test", "direction"],
      c.metrics.map((metric) => [metric.label, number(metric.n), level(metric, metric.a), level(metric, metric.b), change(metric, metric.difference), test(metric), directionText(metric.bad)]),
      { class: "comparison-table" },
    ),
    c.by_category.length && primary
      ? barsWithIntervals(
          `Change in ${label} by category, B − A (95% CI)`,
          c.by_category.map((entry) => entry.category),
          [{ name: "B − A", values: c.by_category.map((entry) => entry.difference) }],
          {
            horizontal: true,
            symmetric: true,
            unit: primary.kind.type === "rate" ? "pp" : primary.kind.type === "unbounded" ? (primary.kind.unit ?? "") : "",
            scale: primary.kind.type === "rate" ? 100 : 1,
          },
        )
      : null,
    ...lists,
    c.onlyInA.length || c.onlyInB.length ? h("p", { class: "note" }, `Only in A: ${c.onlyInA.slice(0, 20).join(", ") || "none"}. Only in B: ${c.onlyInB.slice(0, 20).join(", ") || "none"}.`) : null,
  );
}
