import type { LeaderboardEntry } from "../metrics/judging/leaderboard.js";

const share = (value: number | null) => (value === null ? "—" : value.toFixed(3));
const amount = (value: number | null, digits = 0) => (value === null ? "—" : value.toFixed(digits));

export const LEADERBOARD_HEADER = [
  "judge",
  "judged / items",
  "agreement",
  "kappa",
  "precision",
  "recall",
  "refused",
  "unparseable",
  "call errors",
  "tokens in / out per 1k",
  "$ per 1k items",
  "s per 1k items",
  "position bias",
];

/** One leaderboard row as text cells (terminal and report share it). */
export function leaderboardCells(entry: LeaderboardEntry): string[] {
  return [
    entry.judge,
    `${entry.judged} / ${entry.items}`,
    share(entry.agreement),
    share(entry.kappa),
    share(entry.precision),
    share(entry.recall),
    String(entry.refused),
    String(entry.unparseable),
    String(entry.errors),
    `${amount(entry.input_tokens_per_1000)} / ${amount(entry.output_tokens_per_1000)}`,
    entry.cost_usd_per_1000 === null ? "unknown" : entry.cost_usd_per_1000.toFixed(4),
    amount(entry.seconds_per_1000_items, 1),
    entry.position_bias_rate === null ? "n/a" : share(entry.position_bias_rate),
  ];
}

/** What the leaderboard's columns mean (printed under it). */
export const LEADERBOARD_NOTE =
  "s per 1k items: summed answer latency per item, one call at a time. $ per 1k items: the tokens at the judge's price (built-in table, dated, or the config's `prices:`; a local model costs 0; unknown when the model has no price). Position bias: pairwise judges only (a yes/no classifier sees no order).";
