import { boardColumns, orderRuns, type SortOrder } from "../../shared/board-model.js";
import { boardTable } from "../../shared/board-table.js";
import { clear, h } from "../../shared/dom.js";
import type { RunListing } from "../../../src/viewer/run-index.js";
import { api, nav, show } from "../page-kit.js";

/** The runs list: a leaderboard of every run's headline numbers; selected runs open a comparison or a trend. */
export async function runsPage(query: URLSearchParams = new URLSearchParams()): Promise<void> {
  clear(nav);
  const runs = await api<RunListing[]>("/api/runs");
  const column = query.get("sort");
  const sort = column ? { column, order: (query.get("order") === "desc" ? "desc" : "asc") as SortOrder } : undefined;
  let selected: string[] = [];
  const byId = new Map(runs.map((run) => [run.run_id, run]));

  const compare = h("button", { type: "button", id: "compare", disabled: true }, "compare selected") as HTMLButtonElement;
  const metric = h("select", { name: "metric", id: "trend-metric", disabled: true }) as HTMLSelectElement;
  const trend = h("button", { type: "button", id: "trend", disabled: true }, "chart over selected runs") as HTMLButtonElement;
  const hint = h("span", { class: "note", id: "selection" }, "Select runs to compare them, or to chart a metric across them.");

  const update = (ids: string[]) => {
    selected = ids;
    compare.disabled = ids.length < 2;
    compare.textContent = ids.length > 2 ? `compare ${ids.length} runs side by side` : "compare selected";
    const names = boardColumns(ids.map((id) => byId.get(id)!).filter(Boolean)).map((entry) => entry.name);
    const current = metric.value;
    clear(metric);
    for (const name of names) metric.appendChild(h("option", { value: name, selected: name === current }, name));
    metric.disabled = names.length === 0;
    trend.disabled = ids.length < 2 || names.length === 0;
    hint.textContent = ids.length ? `${ids.length} selected` : "Select runs to compare them, or to chart a metric across them.";
  };
  const chosen = () =>
    orderRuns(
      selected.map((id) => byId.get(id)!),
      "created",
    ).map((run) => run.run_id);
  compare.addEventListener("click", () => {
    const ids = chosen();
    // Two runs: the paired comparison, the older as A. More: their headline tables side by side.
    location.hash = ids.length === 2 ? `#/compare/${encodeURIComponent(ids[0]!)}/${encodeURIComponent(ids[1]!)}` : `#/board?runs=${ids.map(encodeURIComponent).join(",")}`;
  });
  trend.addEventListener("click", () => {
    location.hash = `#/trend?runs=${chosen().map(encodeURIComponent).join(",")}&metric=${encodeURIComponent(metric.value)}&order=created`;
  });

  show(
    h(
      "section",
      { class: "card", id: "runs" },
      h("h2", {}, `Runs (${runs.length})`),
      h("div", { class: "toolbar" }, compare, metric, trend, hint),
      boardTable(runs, {
        sort,
        onSelect: update,
        // The sort is kept in the URL (without reloading the page), so a shared link opens sorted alike.
        onSort: (key, order) => history.replaceState(null, "", `#/?sort=${encodeURIComponent(key)}&order=${order}`),
      }),
    ),
  );
}
