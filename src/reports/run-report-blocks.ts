import { naturalCompare } from "../common/natural-order.js";
import { proportion } from "../metrics/intervals.js";
import type { Manifest } from "../results/manifest.js";
import { costOf, type Price, type UsageEntry } from "../metrics/usage.js";
import type { RunReport, SeverityShare, UsageSummary } from "./report-types.js";

/** Wilson intervals of the share above the severity threshold, sorted by group then model (numbers in numeric order). */
export function severityShares(counts: Array<{ group: string; model: string; n: number; above: number }>): SeverityShare[] {
  return counts.map(({ group, model, n, above }) => ({ ...proportion(above, n), group, model })).sort((a, b) => naturalCompare(a.group, b.group) || naturalCompare(a.model, b.model));
}

/** What a report shows of a run's manifest (no judge prompt or schema: they are long and in manifest.json). */
export function manifestBlock(manifest: Manifest): RunReport["manifest"] {
  const config = manifest.config;
  return {
    run_id: manifest.run_id,
    created_at: manifest.created_at,
    updated_at: manifest.updated_at,
    tool: manifest.tool,
    dataset: manifest.dataset,
    models: manifest.models,
    // Which models played which role (a drift run's base, a baseline): addresses only, shown beside the models.
    ...(manifest.roles ? { roles: manifest.roles } : {}),
    personas: manifest.personas.map((persona) => persona.slug),
    judge: manifest.judge ? { ...manifest.judge, prompt_template: "", schema: {} } : null,
    ...(manifest.scorers ? { scorers: manifest.scorers } : {}),
    environment: manifest.environment,
    ...(manifest.offline ? { offline: manifest.offline } : {}),
    options: {
      suite: config.suite ?? null,
      epochs: config.epochs,
      concurrency: config.concurrency,
      generation: config.generation,
      scorers: config.scorers,
      group_by: config.group_by ?? [],
    },
  };
}

/** The usage table: each (model, role, scorer) entry with its cost where the model's price was given. */
export function usageWithCost(entries: UsageEntry[], prices: Record<string, Price> | undefined): UsageSummary[] {
  // A --price given to the report wins; else the cost summary.json computed at the run's prices.
  return entries.map((entry) => ({ ...entry, cost_usd: prices?.[entry.model] ? costOf(entry, prices[entry.model]) : (entry.cost_usd ?? null) }));
}
