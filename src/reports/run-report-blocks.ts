import { naturalCompare } from "../common/natural-order.js";
import { proportion } from "../metrics/intervals.js";
import type { Manifest } from "../results/manifest.js";
import type { RunReport, SeverityShare, UsageSummary } from "./report-types.js";

function percentile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
}

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
    personas: manifest.personas.map((persona) => persona.slug),
    judge: manifest.judge ? { ...manifest.judge, prompt_template: "", schema: {} } : null,
    ...(manifest.scorers ? { scorers: manifest.scorers } : {}),
    environment: manifest.environment,
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

/** Calls, tokens, latency percentiles and cost of one model. */
export function usageSummary(model: string, calls: number, input: number, output: number, sortedLatencies: Float64Array, price: { input: number; output: number } | undefined): UsageSummary {
  return {
    model,
    calls,
    prompt_tokens: input,
    completion_tokens: output,
    latency_ms: {
      mean: sortedLatencies.length ? sortedLatencies.reduce((sum, value) => sum + value, 0) / sortedLatencies.length : null,
      p50: percentile(sortedLatencies, 0.5),
      p95: percentile(sortedLatencies, 0.95),
    },
    cost_usd: price ? (input * price.input + output * price.output) / 1e6 : null,
  };
}
