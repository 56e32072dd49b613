import type { Agreement } from "../agreement.js";

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
  /** Share of pairs judged differently when swapped: pairwise judges only (a yes/no classifier has no order). */
  position_bias_rate: number | null;
  folder: string;
}

/** The judges, best Cohen's kappa first (no kappa last, then by name). */
export function judgeLeaderboard(judges: MeasuredJudge[]): LeaderboardEntry[] {
  return judges
    .map((measured): LeaderboardEntry => {
      const items = measured.n;
      const perThousand = (value: number | undefined) => (value === undefined || items === 0 ? null : (value / items) * 1000);
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
        input_tokens_per_1000: perThousand(measured.usage?.input_tokens),
        output_tokens_per_1000: perThousand(measured.usage?.output_tokens),
        seconds_per_1000_items: measured.usage && items > 0 ? measured.usage.latency_ms / items : null,
        position_bias_rate: null,
        folder: measured.folder,
      };
    })
    .sort((a, b) => (b.kappa ?? -Infinity) - (a.kappa ?? -Infinity) || (a.judge < b.judge ? -1 : 1));
}
