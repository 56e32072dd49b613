import type { RunSummary } from "../metrics/summary-types.js";

/** One line of what a run's calls used and cost, for the terminal: tokens in and out, dollars and their prices' date. */
export function costLine(summary: Pick<RunSummary, "usage" | "cost">): string | undefined {
  const usage = summary.usage ?? [];
  if (usage.length === 0) return undefined;
  const input = usage.reduce((sum, entry) => sum + entry.input_tokens, 0);
  const output = usage.reduce((sum, entry) => sum + entry.output_tokens, 0);
  const calls = usage.reduce((sum, entry) => sum + entry.calls, 0);
  const tokens = `${calls.toLocaleString("en-US")} calls · ${input.toLocaleString("en-US")} input and ${output.toLocaleString("en-US")} output tokens`;
  const cost = summary.cost;
  if (!cost) return tokens;
  const dollars = `$${cost.total_usd.toFixed(cost.total_usd < 1 ? 4 : 2)}`;
  const unpriced = cost.partial ? `; no price for ${cost.unpriced_models.join(", ")} (add it under prices: in the config)` : "";
  return `${tokens} · cost ${dollars}${cost.partial ? " at least" : ""} (price table of ${cost.price_table_date}${unpriced})`;
}
