// The side-by-side grid: test items down, model × persona across, each cell a response with its scores
// coloured by outcome (by each scorer's declared direction). One page of test items at a time from the
// server; the filters are the item table's, in the URL.
import "../grid.css";
import { h } from "../../shared/dom.js";
import { number, valueByKind } from "../../shared/format.js";
import type { GridCell, GridPage } from "../../../src/viewer/grid.js";
import type { RunListing } from "../../../src/viewer/run-index.js";
import type { ScorerDeclaration } from "../../../src/scorers/types.js";
import { filterBar, filterParams, type FilterBarData } from "../filter-bar.js";
import { api, progressBox, runTabs, show } from "../page-kit.js";

const PAGE = 50;

export async function gridPage(runId: string, params: URLSearchParams): Promise<void> {
  runTabs(runId, "grid");
  const id = encodeURIComponent(runId);
  const listing = await api<RunListing>(`/api/runs/${id}`);
  if (!listing.has_results) return show(progressBox(listing), h("section", { class: "card" }, h("p", {}, "The grid reads results.parquet, written when the run ends.")));
  const query = filterParams(params);
  const offset = Math.max(0, Math.floor(Number(params.get("offset") ?? 0)) || 0);
  query.set("offset", String(offset));
  query.set("limit", String(PAGE));
  const result = await api<FilterBarData & GridPage>(`/api/runs/${id}/grid?${query}`);
  const go = (changes: Record<string, string>) => {
    const next = filterParams(params);
    if (offset) next.set("offset", String(offset));
    for (const [name, value] of Object.entries(changes)) value ? next.set(name, value) : next.delete(name);
    if (!("offset" in changes)) next.delete("offset");
    location.hash = `#/run/${id}/grid?${next}`;
  };
  // A persona is named only where the run has more than one.
  const personas = new Set(result.columns.map((column) => column.persona));
  const header = h(
    "tr",
    {},
    h("th", { class: "grid-test" }, "test item"),
    ...result.columns.map((column) =>
      h("th", { class: "grid-column", "data-model": column.model, "data-persona": column.persona }, h("div", {}, column.model), personas.size > 1 ? h("div", { class: "note" }, column.persona) : null),
    ),
  );
  const rows = result.rows.map((row) => {
    const prompt = row.cells.flat()[0]?.prompt ?? "";
    return h(
      "tr",
      { class: "grid-row", "data-test": row.test_id, "data-epoch": row.epoch },
      h(
        "th",
        { class: "grid-test" },
        h("div", { class: "grid-test-id" }, result.epochs ? `${row.test_id} · epoch ${row.epoch}` : row.test_id),
        row.category ? h("div", { class: "note" }, row.category) : null,
        h("div", { class: "grid-prompt" }, prompt),
      ),
      ...row.cells.map((items, position) =>
        h(
          "td",
          { class: "grid-cell", "data-model": result.columns[position]!.model, "data-persona": result.columns[position]!.persona },
          ...(items.length ? items.map((item) => cellItem(id, item, result.scorers)) : [h("span", { class: "note" }, "—")]),
        ),
      ),
    );
  });
  const shownTo = Math.min(offset + result.rows.length, result.total);
  show(
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Side by side"),
      filterBar(result, params, go),
      h(
        "p",
        { class: "count", id: "grid-count" },
        `${number(result.total)} of ${number(result.items)} test items match; showing ${result.total ? offset + 1 : 0}–${shownTo}. Cells that do not match the filters are dimmed.`,
      ),
      h("div", { class: "grid-scroll" }, h("table", { class: "grid-table" }, h("thead", {}, header), h("tbody", {}, ...rows))),
      h(
        "div",
        { class: "toolbar" },
        h("button", { type: "button", id: "grid-previous", disabled: offset === 0, onclick: () => go({ offset: String(Math.max(0, offset - PAGE)) }) }, "← previous"),
        h("button", { type: "button", id: "grid-next", disabled: offset + PAGE >= result.total, onclick: () => go({ offset: String(offset + PAGE) }) }, "next →"),
      ),
    ),
  );
}

/** One work item in a cell: its scores coloured by outcome, then its response (cut, with a button for the rest). */
function cellItem(runId: string, item: GridCell, scorers: ScorerDeclaration[]): HTMLElement {
  const open = () => (location.hash = `#/run/${runId}/item/${item.index}`);
  const scores = scorers.flatMap((scorer) => {
    const score = item.scores[scorer.name];
    if (!score || (score.value === null && score.label === null)) return [];
    const text = `${scorer.name}: ${valueByKind(scorer.metrics[0].kind, score.value)}${score.label ? ` (${score.label})` : ""}`;
    return [h("span", { class: "grid-score", "data-scorer": scorer.name, "data-outcome": score.outcome ?? "none", title: `${scorer.metrics[0].label}: ${score.outcome ?? "no outcome"}` }, text)];
  });
  const response = h("div", { class: "grid-response" }, item.response || (item.status === "error" ? "" : "(empty response)"));
  // The cell shows a few lines; the rest on demand, read from the item where the server cut it.
  const more =
    item.response_truncated || item.response.length > 300
      ? h(
          "button",
          {
            type: "button",
            class: "grid-more",
            onclick: async (event: Event) => {
              // The whole response, read once from the item itself; the cell's click opens the transcript.
              event.stopPropagation();
              const button = event.currentTarget as HTMLButtonElement;
              button.disabled = true;
              if (item.response_truncated) response.textContent = (await api<{ raw_candidate: string | null }>(`/api/runs/${runId}/items/${item.index}`)).raw_candidate ?? "";
              response.classList.add("expanded");
              button.remove();
            },
          },
          "show all",
        )
      : null;
  return h(
    "div",
    {
      class: "grid-item",
      role: "link",
      tabindex: 0,
      title: "open the transcript",
      "data-index": item.index,
      "data-key": item.key,
      "data-match": String(item.match),
      "data-outcome": item.outcome ?? "none",
      onclick: open,
      onkeydown: (event: Event) => {
        if ((event as KeyboardEvent).key === "Enter") open();
      },
    },
    h("div", { class: "grid-scores" }, ...scores, item.status === "error" ? h("span", { class: "grid-score", "data-outcome": "error" }, "error") : null),
    response,
    more,
  );
}
