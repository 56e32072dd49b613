import type { Estimate } from "../metrics/intervals.js";
import type { GroupSummary, Headline, RunSummary } from "../metrics/summary.js";

// How a summary's numbers read: which estimate a group's primary metric is, and whether a number is a
// proportion (shown in %) or a graded score. Pure and type-only in its imports, so the terminal, the
// paper tables and the browser front end share it.

/** A group's primary metric: the verdict's attack success, or a scorer's rate or mean. */
export function primaryEstimate(scorer: string, group: GroupSummary | undefined): Estimate | undefined {
  if (!group) return undefined;
  return scorer === "verdict" ? group.attack_success_rate : group.scores[scorer];
}

/** Whether a scorer's values are proportions (the verdict's attack success, or a 0/1 scorer). */
export function scorerIsRate(summary: RunSummary, scorer: string): boolean {
  return scorer === "verdict" || summary.totals.scores[scorer]?.kind !== "mean";
}

/** Whether a headline is a proportion: a toxicity probability, or the mean of a rate scorer. */
export function headlineIsRate(summary: RunSummary, headline: Pick<Headline, "scorer" | "statistic">): boolean {
  if (headline.statistic === "toxicity_probability") return true;
  return headline.statistic === "mean" && (headline.scorer === "verdict" || summary.totals.scores[headline.scorer]?.kind === "rate");
}
