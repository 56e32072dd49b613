import type { Agreement } from "../agreement.js";
import { priceOf } from "../prices.js";
import type { Price } from "../usage.js";

// A judge leaderboard: several judges measured on the same labels (one judge-eval each), side by side, so a
// user picks a judge on evidence. Seconds per 1,000 items are the judge's summed answer latency per item
// (ms per item = s per 1,000 items): its cost in time one call at a time, not a concurrent run's wall clock.

/** What a leaderboard reads of one judge-eval (runner/judge-eval.ts's report). */
export interface MeasuredJudge {
  judge: string;
  folder: string;
  n: number;
  overall: Agreement;
  outcomes?: { verdict: number; refused: number; unparseable: number; error: number };
  usage?: { calls: number; input_tokens: number; output_tokens: number; latency_ms: number };
}

export interface LeaderboardEntry {
  judge: string;
  /** Items with a usable answer (the agreement is over these), of `items`. */
  judged: number;
  items: number;
  agreement: number | null;
  kappa: number | null;
  precision: number | null;
  recall: number | null;
  refused: number;
  unparseable: number;
  errors: number;
  /** Tokens per 1,000 items (price them with the provider's rates). */
  input_tokens_per_1000: number | null;
  output_tokens_per_1000: number | null;
  seconds_per_1000_items: number | null;
  /** Dollars per 1,000 items at the judge's price (the built-in table or `prices`; 0 for a local model); null when its price is unknown. */
  cost_usd_per_1000: number | null;
  /** Share of pairs judged differently when swapped: pairwise judges only (a yes/no classifier has no order). */
  position_bias_rate: number | null;
  folder: string;
}

/** The judges, best Cohen's kappa first (no kappa last, then by name). */
export function judgeLeaderboard(judges: MeasuredJudge[], prices: Record<string, Price> = {}): LeaderboardEntry[] {
  return judges
    .map((measured): LeaderboardEntry => {
      const items = measured.n;
      const perThousand = (value: number | undefined) => (value === undefined || items === 0 ? null : (value / items) * 1000);
      const input = perThousand(measured.usage?.input_tokens);
      const output = perThousand(measured.usage?.output_tokens);
      const colon = measured.judge.indexOf(":");
      const price = priceOf(measured.judge, colon > 0 ? { provider: measured.judge.slice(0, colon) } : {}, prices);
      return {
        judge: measured.judge,
        judged: measured.overall.n,
        items,
        agreement: measured.overall.accuracy,
        kappa: measured.overall.kappa,
        precision: measured.overall.precision,
        recall: measured.overall.recall,
        refused: measured.outcomes?.refused ?? 0,
        unparseable: measured.outcomes?.unparseable ?? 0,
        errors: measured.outcomes?.error ?? 0,
        input_tokens_per_1000: input,
        output_tokens_per_1000: output,
        cost_usd_per_1000: price && input !== null && output !== null ? (input * price.input + output * price.output) / 1e6 : null,
        seconds_per_1000_items: measured.usage && items > 0 ? measured.usage.latency_ms / items : null,
        position_bias_rate: null,
        folder: measured.folder,
      };
    })
    .sort((a, b) => (b.kappa ?? -Infinity) - (a.kappa ?? -Infinity) || (a.judge < b.judge ? -1 : 1));
}
