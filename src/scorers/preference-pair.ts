import type { PreferencePair } from "../datasets/formats/hh-rlhf.js";
import type { ScorerContext } from "./types.js";

export type { PreferencePair } from "../datasets/formats/hh-rlhf.js";

/** The row's preference pair, as the hh-rlhf record format put it in metadata (kept in the row, so rejudging finds it). */
export function preferencePair(context: ScorerContext): PreferencePair {
  const metadata = context.sample.metadata ?? {};
  const { dialogue, chosen, rejected } = metadata;
  if (typeof dialogue !== "string" || typeof chosen !== "string" || typeof rejected !== "string") {
    throw new Error("the item has no preference pair: read the file with record_format: hh-rlhf ({chosen, rejected} dialogues, or prompt / chosen / rejected columns)");
  }
  return { dialogue, chosen, rejected };
}

/** Unicode code points, as Python's len() counts them (the per-character normalisation's length). */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
