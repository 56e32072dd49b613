import { h } from "../../shared/dom.js";
import { number, valueByKind } from "../../shared/format.js";
import type { RunListing } from "../../../src/viewer/run-index.js";
import type { ItemRowSummary } from "../../../src/viewer/item-index.js";
import type { ScorerDeclaration } from "../../../src/scorers/types.js";
import { exportLinks } from "../export-links.js";
import { filterBar, filterParams, select, type FilterBarData } from "../filter-bar.js";
import { api, progressBox, runTabs, show } from "../page-kit.js";

/** The table's own parameters beside the shared filters. */
const TABLE = ["sort", "order", "offset"] as const;

export async function itemsPage(runId: string, params: URLSearchParams): Promise<void> {
  runTabs(runId, "items");
  const id = encodeURIComponent(runId);
  const listing = await api<RunListing>(`/api/runs/${id}`);
  if (!listing.has_results) return show(progressBox(listing), h("section", { class: "card" }, h("p", {}, "The item table reads results.parquet, written when the run ends.")));
  const query = filterParams(params);
  for (const name of TABLE) if (params.get(name)) query.set(name, params.get(name)!);
  const result = await api<FilterBarData & { total: number; size: number; rows: ItemRowSummary[] }>(`/api/runs/${id}/items?${query}`);
  // The table's columns and the outcome filter come from the scorers' declarations.
  const primaryMetric = result.primary ? result.scorers.find((scorer) => scorer.name === result.primary!.scorer)?.metrics.find((metric) => metric.name === result.primary!.metric) : undefined;
  const outcomeLabel = primaryMetric ? `outcome by ${primaryMetric.label}` : "outcome";
  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(query);
    for (const [name, value] of Object.entries(changes)) value ? next.set(name, value) : next.delete(name);
    if (!("offset" in changes)) next.delete("offset");
    location.hash = `#/run/${id}/items?${next}`;
  };
  const offset = Number(params.get("offset") ?? 0);
  const toolbar = h(
    "div",
    {},
    filterBar(result, params, go, { severity: true }),
    h(
      "div",
      { class: "toolbar" },
      select(
        "sort",
        "sort by",
        [
          ["severity", "severity"],
          ["key", "key"],
          ["model", "model"],
          ["persona", "persona"],
          ["category", "category"],
          ["test_id", "test id"],
        ],
        params,
        go,
      ),
      select("order", "order", [["desc", "descending"]], params, go),
    ),
  );
  const outcomeCell = (outcome: ItemRowSummary["outcome"]) => (outcome === "bad" ? "bad" : outcome === "good" ? "ok" : outcome === "neutral" ? "—" : "not scored");
  const scoreCell = (scorer: ScorerDeclaration, score: { value: number | null; label: string | null } | undefined) =>
    score === undefined || (score.value === null && score.label === null) ? "—" : `${valueByKind(scorer.metrics[0].kind, score.value)}${score.label ? ` (${score.label})` : ""}`;
  const rows = result.rows.map((row) => {
    const tr = h(
      "tr",
      { class: "clickable item-row", "data-index": row.index, "data-outcome": row.outcome ?? "none", onclick: () => (location.hash = `#/run/${id}/item/${row.index}?${query}`) },
      ...[
        row.severity === null ? "—" : row.severity.toFixed(2),
        outcomeCell(row.outcome),
        ...result.scorers.map((scorer) => scoreCell(scorer, row.scores[scorer.name])),
        row.model,
        row.persona,
        row.category,
        row.test_id,
        row.prompt,
        row.response,
        row.status,
      ].map((cell) => h("td", {}, cell)),
    );
    return tr;
  });
  show(
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Items"),
      toolbar,
      h("p", { class: "count", id: "item-count" }, `${number(result.total)} of ${number(result.size)} items match; showing ${result.total ? offset + 1 : 0}–${offset + result.rows.length}`),
      exportLinks(runId, query),
      h(
        "table",
        { class: "items-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["severity", outcomeLabel, ...result.scorers.map((scorer) => `${scorer.name}: ${scorer.metrics[0].label}`), "model", "persona", "category", "test", "prompt", "response", "status"].map(
              (title) => h("th", {}, title),
            ),
          ),
        ),
        h("tbody", {}, ...rows),
      ),
      h(
        "div",
        { class: "toolbar" },
        h("button", { type: "button", disabled: offset === 0, onclick: () => go({ offset: String(Math.max(0, offset - 50)) }) }, "← previous"),
        h("button", { type: "button", disabled: offset + 50 >= result.total, onclick: () => go({ offset: String(offset + 50) }) }, "next →"),
      ),
    ),
  );
}
