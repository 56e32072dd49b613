import { PRICE_TABLE } from "./price-table.js";
import type { ResolvedPrice } from "./prices.js";
import { costOf, type CostSummary, type UsageEntry } from "./usage.js";

/**
 * Usage entries with their cost, and the run's total: each entry's tokens at its model's price (dollars per
 * million tokens). A model without a price gets cost null and makes the total partial (it is named), never a
 * guessed zero. Without prices at all (no manifest to read them from), the entries stay as they were.
 */
export function pricedUsage(entries: UsageEntry[], prices: Record<string, ResolvedPrice> | undefined): { usage: UsageEntry[]; cost?: CostSummary } {
  if (!prices) return { usage: entries };
  let total = 0;
  const unpriced = new Set<string>();
  const usage = entries.map((entry) => {
    const price = prices[entry.model];
    const cost = costOf(entry, price);
    if (cost === null) unpriced.add(entry.model);
    else total += cost;
    return { ...entry, cost_usd: cost };
  });
  const used = new Set(entries.map((entry) => entry.model));
  return {
    usage,
    cost: {
      total_usd: total,
      partial: unpriced.size > 0,
      unpriced_models: [...unpriced].sort(),
      prices: Object.fromEntries(Object.entries(prices).filter(([model]) => used.has(model))),
      price_table_date: PRICE_TABLE.date,
    },
  };
}

/** A row's cost: its calls (the plan's and the scorers') at their models' prices; unpriced calls count nothing. */
export function costOfEntries(entries: UsageEntry[], prices: Record<string, ResolvedPrice>): number {
  return entries.reduce((sum, entry) => sum + (costOf(entry, prices[entry.model]) ?? 0), 0);
}
