import type { RunListing } from "../../src/viewer/run-index.js";
import { boardColumns, boardRows, sortRows, STATE_LABELS, STATE_NOTES, type BoardColumn, type BoardRow, type SortOrder } from "./board-model.js";
import { append, clear, h } from "./dom.js";
import { byKind, number } from "./format.js";

// The leaderboard table: one row per run and model, its headline numbers (with 95% intervals) as columns,
// sortable by a click on a header. The runs list and a run's dashboard both show it.

export interface BoardOptions {
  /** Checkboxes on each row; called with the selected run ids whenever they change. */
  onSelect?: (runIds: string[]) => void;
  /** The column sorted by first, and how; called after each click, so a page can keep it in its URL. */
  sort?: { column: string; order: SortOrder };
  onSort?: (column: string, order: SortOrder) => void;
}

function direction(column: BoardColumn): string {
  return column.higher_is === "better" ? "higher is better" : column.higher_is === "worse" ? "higher is worse" : "";
}

/** The order a first click sorts a headline column in: its best values first. */
function firstOrder(column: BoardColumn | undefined): SortOrder {
  return column?.higher_is === "worse" ? "asc" : "desc";
}

export function boardTable(runs: RunListing[], options: BoardOptions = {}): HTMLElement {
  const columns = boardColumns(runs);
  const rows = boardRows(runs);
  const selected = new Set<string>();
  let sort = options.sort;
  const tbody = h("tbody");
  const headers = new Map<string, HTMLElement>();

  const header = (key: string, label: string, note = "") => {
    const cell = h("th", { class: "sortable", "data-column": key, title: `sort by ${label}`, tabindex: 0, role: "button" }, label, note ? h("span", { class: "note board-direction" }, note) : null);
    const click = () => {
      const column = columns.find((entry) => entry.name === key);
      const order: SortOrder = sort?.column === key ? (sort.order === "asc" ? "desc" : "asc") : column ? firstOrder(column) : "asc";
      sort = { column: key, order };
      draw();
      options.onSort?.(key, order);
    };
    cell.addEventListener("click", click);
    cell.addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key === "Enter") click();
    });
    headers.set(key, cell);
    return cell;
  };

  const checkbox = (runId: string) =>
    h("input", {
      type: "checkbox",
      class: "board-select",
      value: runId,
      title: `select ${runId}`,
      onchange: (event: Event) => {
        const checked = (event.target as HTMLInputElement).checked;
        if (checked) selected.add(runId);
        else selected.delete(runId);
        // A run with several models has several rows: their boxes move together.
        for (const box of tbody.querySelectorAll<HTMLInputElement>("input.board-select")) if (box.value === runId) box.checked = checked;
        options.onSelect?.([...selected]);
      },
    });

  const status = (row: BoardRow) => {
    const { state, progress } = row.run;
    const failed = state === "failed_items" ? ` (${number(progress.error)})` : "";
    return h("span", { class: `state state-${state}`, title: STATE_NOTES[state] }, `${STATE_LABELS[state]}${failed}`);
  };

  const line = (row: BoardRow) => {
    const id = encodeURIComponent(row.run.run_id);
    const { progress } = row.run;
    return h(
      "tr",
      { "data-run": row.run.run_id, "data-model": row.model },
      options.onSelect ? h("td", {}, checkbox(row.run.run_id)) : null,
      h("td", {}, h("a", { href: `#/run/${id}`, class: "run-link" }, row.run.run_id)),
      h("td", { class: "board-model" }, row.model),
      ...columns.map((column) => {
        const value = row.cells.get(column.name);
        const text = value ? byKind(value.kind, value) : "";
        return h(
          "td",
          {
            class: "board-value",
            "data-column": column.name,
            ...(value && value.estimate !== null ? { "data-value": value.estimate } : {}),
            title: value
              ? `n = ${value.n}${value.clustered ? ", interval clustered by test item" : ""}${value.source === "primary" ? "; the run's primary metric (its suite declares no headline)" : ""}`
              : "not measured by this run",
          },
          text,
        );
      }),
      h("td", {}, status(row)),
      h(
        "td",
        { class: "board-done", title: `${number(progress.ok)} ok, ${number(progress.error)} failed, of ${number(progress.total)} keys` },
        `${number(progress.ok + progress.error)} of ${number(progress.total)}`,
      ),
      h("td", { class: "note" }, row.run.created_at.replace("T", " ").slice(0, 19)),
    );
  };

  function draw(): void {
    clear(tbody);
    append(tbody, ...(sort ? sortRows(rows, sort.column, sort.order) : rows).map(line));
    for (const [key, cell] of headers) {
      if (sort?.column === key) cell.setAttribute("aria-sort", sort.order === "asc" ? "ascending" : "descending");
      else cell.removeAttribute("aria-sort");
    }
  }

  const table = h(
    "table",
    { class: "board-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        options.onSelect ? h("th", {}, "") : null,
        header("run", "run"),
        header("model", "model"),
        ...columns.map((column) => header(column.name, column.name, direction(column))),
        header("status", "status"),
        header("done", "done"),
        header("created", "created"),
      ),
    ),
    tbody,
  );
  draw();
  const clustered = runs.some((run) => run.headlines.some((headline) => headline.clustered));
  const problems = runs.filter((run) => run.headlines_error);
  return h(
    "div",
    { class: "board" },
    h("div", { class: "table-scroll" }, table),
    h(
      "p",
      { class: "note" },
      "Headline numbers with 95% intervals",
      clustered ? " (clustered by test item where rows repeat one: personas, epochs)" : "",
      ". A run whose suite declares no headline shows its primary metric. Click a header to sort; runs without a number sort last.",
    ),
    ...problems.map((run) => h("p", { class: "error" }, `${run.run_id}: ${run.headlines_error}`)),
  );
}
