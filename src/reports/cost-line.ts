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
  const total = `${tokens} · cost ${dollars}${cost.partial ? " at least" : ""} (price table of ${cost.price_table_date}${unpriced})`;
  if (usage.length < 2) return total;
  // Several models or roles: each one's share on a line of its own, as the report's usage table has them.
  const lines = usage.map((entry) => {
    const who = `${entry.model} (${entry.role}${entry.scorer ? `, ${entry.scorer}` : ""})`;
    const spent = entry.cost_usd === undefined || entry.cost_usd === null ? "no price" : `$${entry.cost_usd.toFixed(4)}`;
    return `  ${who}: ${entry.calls.toLocaleString("en-US")} calls, ${entry.input_tokens.toLocaleString("en-US")} in, ${entry.output_tokens.toLocaleString("en-US")} out, ${spent}`;
  });
  return [total, ...lines].join("\n");
}
