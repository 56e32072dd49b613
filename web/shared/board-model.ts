import type { BoardHeadline, RunListing, RunState } from "../../src/viewer/run-index.js";

// The runs list as a leaderboard, as data: its columns (every run's headlines, by name), its rows (one per
// run and model) and their order. Pure, so the runs list, a run's dashboard, the side-by-side page and the
// trend chart read runs the same way, and tests check it without a browser.

export interface BoardColumn {
  name: string;
  higher_is: BoardHeadline["higher_is"];
}

export interface BoardRow {
  run: RunListing;
  model: string;
  /** The row's headline numbers by headline name. */
  cells: Map<string, BoardHeadline>;
}

export const STATE_LABELS: Record<RunState, string> = {
  running: "running",
  interrupted: "interrupted",
  failed_items: "failed items",
  finished: "finished",
  killed: "killed (not finished)",
};

/** What each state means, for the status cell's tooltip. */
export const STATE_NOTES: Record<RunState, string> = {
  running: "a live process holds the run's lock",
  interrupted: "stopped by a signal (Ctrl-C); resume it to finish",
  failed_items: "finished with items still failed; resuming retries them",
  finished: "every item done",
  killed: "the run stopped without finishing (killed or crashed); resume it to finish",
};

/** Every headline name of these runs, each once, in the order runs list them (a suite's headlines stay together). */
export function boardColumns(runs: RunListing[]): BoardColumn[] {
  const columns = new Map<string, BoardColumn>();
  for (const run of runs) for (const headline of run.headlines) if (!columns.has(headline.name)) columns.set(headline.name, { name: headline.name, higher_is: headline.higher_is });
  return [...columns.values()];
}

/** One row per run and model: a run's models are ranked like any other's. */
export function boardRows(runs: RunListing[]): BoardRow[] {
  return runs.flatMap((run) => {
    const models = [...new Set([...run.headlines.map((headline) => headline.model), ...run.models])];
    return (models.length ? models : [""]).map((model) => ({
      run,
      model,
      cells: new Map(run.headlines.filter((headline) => headline.model === model).map((headline) => [headline.name, headline])),
    }));
  });
}

/** Text compared with its numbers as numbers: "ckpt-2" before "ckpt-10". */
export const naturalCompare = new Intl.Collator("en", { numeric: true, sensitivity: "base" }).compare;

export type SortOrder = "asc" | "desc";
/** The fixed columns a board sorts by besides headline names. */
export const TEXT_COLUMNS = ["run", "created", "model", "status", "done"] as const;

/**
 * Rows sorted by a column. Headline columns sort by their estimate, numerically; rows without one come
 * last in either order (a run that lacks a metric is not the best or the worst at it).
 */
export function sortRows(rows: BoardRow[], column: string, order: SortOrder): BoardRow[] {
  const sign = order === "asc" ? 1 : -1;
  const text = (row: BoardRow): string | number => {
    if (column === "run") return row.run.run_id;
    if (column === "created") return row.run.created_at;
    if (column === "model") return row.model;
    if (column === "status") return STATE_LABELS[row.run.state];
    return row.run.progress.ok + row.run.progress.error;
  };
  const isText = (TEXT_COLUMNS as readonly string[]).includes(column);
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      if (isText) {
        const x = text(a.row);
        const y = text(b.row);
        const compared = typeof x === "number" && typeof y === "number" ? x - y : naturalCompare(String(x), String(y));
        return compared * sign || a.index - b.index;
      }
      const x = a.row.cells.get(column)?.estimate ?? null;
      const y = b.row.cells.get(column)?.estimate ?? null;
      if (x === null || y === null) return x === null && y === null ? a.index - b.index : x === null ? 1 : -1;
      return (x - y) * sign || a.index - b.index;
    })
    .map((entry) => entry.row);
}

export type RunOrder = "created" | "name";

/** Runs in creation order (oldest first), or by name in natural order. */
export function orderRuns(runs: RunListing[], by: RunOrder): RunListing[] {
  return [...runs].sort((a, b) => (by === "name" ? naturalCompare(a.run_id, b.run_id) : a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : naturalCompare(a.run_id, b.run_id)));
}
