import { expandedTranscript, type ResultRow } from "../results/record.js";

/** Calls, tokens and latency of one model in one role (the plan's target, attacker…, or a scorer's judge). */
export interface UsageEntry {
  model: string;
  /** The role the model played: a plan's role (target, attacker, baseline…) or, for a scorer's calls, the role it called (judge). */
  role: string;
  /** The scorer whose calls these are; null for the plan's own calls. */
  scorer: string | null;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  /** Over calls (a scorer's calls stored before they were recorded one by one count as one, summed). */
  latency_ms: { mean: number | null; p50: number | null; p95: number | null };
  /** Dollars at the model's price (prices.ts), null when it has none; absent in summaries before 0.2. */
  cost_usd?: number | null;
}

/** A run's spend: the sum of its usage entries' costs, and what it rests on. */
export interface CostSummary {
  total_usd: number;
  /** Some calls are of models without a price: the total leaves them out. */
  partial: boolean;
  unpriced_models: string[];
  /** The price of each model used, and where it came from (config, table, local). */
  prices: Record<string, { input: number; output: number; source: string }>;
  price_table_date: string;
}

/** Tokens in and out per million, in dollars (`--price MODEL=IN,OUT`). */
export interface Price {
  input: number;
  output: number;
}

interface Tally {
  calls: number;
  input: number;
  output: number;
  latencies: number[];
}

/** Nearest-rank percentile of sorted values (the report's convention since 0.1). */
function percentile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
}

/**
 * Every model call behind a run's rows, per (model, role, scorer): the plan's calls from each row's
 * transcript, and each scorer's from its score (its recorded calls, else its summed usage). Rows are the
 * latest attempt of each key, so a call of an attempt that was run again is not counted.
 */
export class UsageTally {
  private readonly tallies = new Map<string, { model: string; role: string; scorer: string | null; tally: Tally }>();

  private entry(model: string, role: string, scorer: string | null): Tally {
    const id = `${model}\u0000${role}\u0000${scorer ?? ""}`;
    let found = this.tallies.get(id);
    if (!found) this.tallies.set(id, (found = { model, role, scorer, tally: { calls: 0, input: 0, output: 0, latencies: [] } }));
    return found.tally;
  }

  private count(tally: Tally, calls: number, usage: { input_tokens: number; output_tokens: number } | null | undefined, latency: number | null | undefined): void {
    tally.calls += calls;
    tally.input += usage?.input_tokens ?? 0;
    tally.output += usage?.output_tokens ?? 0;
    if (typeof latency === "number" && Number.isFinite(latency)) tally.latencies.push(latency);
  }

  add(row: ResultRow): void {
    const calls = expandedTranscript(row);
    if (calls.length === 0 && row.raw_candidate !== null) this.count(this.entry(row.model_slug, "target", null), 1, row.usage, row.latency_ms);
    for (const call of calls) this.count(this.entry(call.model, call.role, null), 1, call.usage, call.latency_ms);
    for (const [name, score] of Object.entries(row.scores ?? {})) {
      if (!score) continue;
      if (score.transcript && score.transcript.length > 0) {
        for (const call of score.transcript) this.count(this.entry(call.model, call.role, name), 1, call.usage, call.latency_ms);
        continue;
      }
      // Rows written before scorers' calls were recorded one by one: the score's own sums.
      if (!score.model || (!score.usage && !score.calls)) continue;
      this.count(this.entry(score.model, "judge", name), score.calls ?? 1, score.usage, score.latency_ms);
    }
  }

  /** The entries, ordered by model, then the plan's roles before the scorers'. */
  build(): UsageEntry[] {
    return [...this.tallies.values()]
      .sort((a, b) => compare(a.model, b.model) || compare(a.scorer ?? "", b.scorer ?? "") || compare(a.role, b.role))
      .map(({ model, role, scorer, tally }) => ({ model, role, scorer, calls: tally.calls, input_tokens: tally.input, output_tokens: tally.output, latency_ms: latencySummary(tally.latencies) }));
  }
}

/** Mean, median and 95th percentile of some latencies (nulls when there are none). */
export function latencySummary(latencies: ArrayLike<number>): UsageEntry["latency_ms"] {
  const sorted = Float64Array.from(latencies).sort();
  return {
    mean: sorted.length ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : null,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
  };
}

/** Dollars for the tokens at a price, or null without one. */
export function costOf(entry: Pick<UsageEntry, "input_tokens" | "output_tokens">, price: Price | undefined): number | null {
  return price ? (entry.input_tokens * price.input + entry.output_tokens * price.output) / 1e6 : null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
