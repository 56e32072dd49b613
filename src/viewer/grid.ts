import { layoutOf, type GridColumn, type GridLayout } from "./grid-layout.js";
import type { ItemIndex, ItemQuery, ItemRowSummary } from "./item-index.js";

export type { GridColumn } from "./grid-layout.js";

// The side-by-side grid: one row per test item (and epoch), one column per model × persona, each cell the
// response of that work item. Pages over test items through the item index, so a 400,000-row run sends the
// browser one page of items at a time.

/** One work item in a cell; `match`: whether it passes every filter (a row is shown when any of its cells does). */
export type GridCell = ItemRowSummary & { match: boolean };

export interface GridRow {
  test_id: string;
  epoch: number;
  category: string;
  /** By column; a cell holds several work items where a plan adds dimensions (strategies), none where absent. */
  cells: GridCell[][];
}

export interface GridPage {
  /** Test items (and epochs) with at least one matching cell, and in the whole run. */
  total: number;
  items: number;
  /** Whether the run has several epochs (then each row is one test item's epoch). */
  epochs: boolean;
  columns: GridColumn[];
  rows: GridRow[];
}

const layouts = new WeakMap<ItemIndex, GridLayout>();

/** One page of the grid: the test items from `offset` with a cell matching the query's filters. */
export async function gridPage(index: ItemIndex, query: ItemQuery): Promise<GridPage> {
  let layout = layouts.get(index);
  if (!layout) layouts.set(index, (layout = layoutOf(index.size, index.coordinates)));
  // Model and persona filters choose columns; the other filters choose cells, and so rows.
  const shown = layout.columns.map((column) => (query.model === undefined || column.model === query.model) && (query.persona === undefined || column.persona === query.persona));
  const match = new Uint8Array(index.size);
  for (const row of await index.matchingRows(query)) match[row] = 1;
  const offset = query.offset ?? 0;
  const limit = Math.min(query.limit ?? 50, 200);
  const { order, starts, columnOf } = layout;
  const page: number[] = [];
  let total = 0;
  for (let group = 0; group < starts.length - 1; group++) {
    let any = false;
    for (let position = starts[group]!; position < starts[group + 1]!; position++) {
      if (match[order[position]!]) {
        any = true;
        break;
      }
    }
    if (!any) continue;
    if (total >= offset && total < offset + limit) page.push(group);
    total++;
  }
  const columnIndex = new Int32Array(layout.columns.length).fill(-1);
  const columns: GridColumn[] = [];
  layout.columns.forEach((column, position) => {
    if (shown[position]) columnIndex[position] = columns.push(column) - 1;
  });
  const rowsOf = (group: number) => Array.from(order.subarray(starts[group]!, starts[group + 1]!)).filter((row) => columnIndex[columnOf[row]!]! >= 0);
  const summaries = new Map((await index.summaries(page.flatMap(rowsOf), 400)).map((summary) => [summary.index, summary]));
  const { testIds, epochs, category } = index.coordinates;
  return {
    total,
    items: starts.length - 1,
    epochs: layout.epochs,
    columns,
    rows: page.map((group) => {
      const first = order[starts[group]!]!;
      const cells: GridCell[][] = columns.map(() => []);
      for (const row of rowsOf(group)) cells[columnIndex[columnOf[row]!]!]!.push({ ...summaries.get(row)!, match: match[row] === 1 });
      return { test_id: testIds.at(first)!, epoch: epochs[first]!, category: category.get(first) ?? "", cells };
    }),
  };
}
