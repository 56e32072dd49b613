import type { UsageSummary } from "./report-types.js";

/** Sums of usage rows: calls, tokens, and cost (null when no row has a price; `cost_partial` when some lack one). */
export interface UsageTotal {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  cost_partial: boolean;
}

/** Per model (all its roles) and over everything: what a run cost, the judges' calls included. */
export function usageTotals(rows: UsageSummary[]): { byModel: Array<UsageTotal & { model: string }>; all: UsageTotal } {
  const add = (total: UsageTotal, row: UsageSummary) => {
    total.calls += row.calls;
    total.input_tokens += row.input_tokens;
    total.output_tokens += row.output_tokens;
    if (row.cost_usd === null) total.cost_partial = true;
    else total.cost_usd = (total.cost_usd ?? 0) + row.cost_usd;
  };
  const empty = (): UsageTotal => ({ calls: 0, input_tokens: 0, output_tokens: 0, cost_usd: null, cost_partial: false });
  const byModel = new Map<string, UsageTotal>();
  const all = empty();
  for (const row of rows) {
    let total = byModel.get(row.model);
    if (!total) byModel.set(row.model, (total = empty()));
    add(total, row);
    add(all, row);
  }
  // A partial sum only matters when some row has a price at all.
  for (const total of [...byModel.values(), all]) if (total.cost_usd === null) total.cost_partial = false;
  return { byModel: [...byModel].map(([model, total]) => ({ model, ...total })), all };
}
