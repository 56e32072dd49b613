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
    amount(entry.seconds_per_1000_items, 1),
    entry.position_bias_rate === null ? "n/a" : share(entry.position_bias_rate),
  ];
}

/** What the leaderboard's columns mean (printed under it). */
export const LEADERBOARD_NOTE =
  "s per 1k items: summed answer latency per item, one call at a time. Tokens: price them at your provider's rates. Position bias: pairwise judges only (a yes/no classifier sees no order).";
