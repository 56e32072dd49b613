import type { RunSummary } from "../metrics/summary.js";

// The judges beside the numbers they produced: under each scorer's table, what its judge gave (refusals and
// unparseable answers apart), how repeatable it was, how much order moved it, how a panel agreed, the rate
// corrected for its measured errors, and where it came from. Terminal and report print these same lines.

const pct = (value: number | null | undefined) => (value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`);
const num = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? "—" : value.toFixed(digits));
const interval = (ci: [number, number] | null | undefined) => (ci ? `[${num(ci[0])}, ${num(ci[1])}]` : "[—]");

/** The lines about `scorer`'s judges (none for a scorer no judge scored). */
export function judgingNotes(summary: Pick<RunSummary, "judging">, scorer: string): string[] {
  const judging = summary.judging;
  if (!judging) return [];
  const lines: string[] = [];
  for (const entry of judging.judges.filter((candidate) => candidate.scorer === scorer)) {
    const unusable = entry.refused + entry.unparseable + entry.errors;
    lines.push(
      `judge ${entry.judge}: ${entry.verdicts} verdicts, ${entry.refused} refused to grade, ${entry.unparseable} unparseable, ${entry.errors} call errors (of ${entry.judgings} judgings${unusable > 0 ? "; the unusable ones are not in the numbers above" : ""})`,
    );
  }
  for (const entry of judging.repeats.filter((candidate) => candidate.scorer === scorer)) {
    lines.push(
      `repeat judging (k=${entry.k}) ${entry.metric}, ${entry.by.model}: verdict flips on ${pct(entry.flip_share)} of ${entry.repeated_items} items, pair agreement ${num(entry.agreement)}; judging is ${pct(entry.judging_share)} of the item-mean variance → ${num(entry.estimate.estimate)} ${interval(entry.estimate.ci95)} with it, ${interval(entry.without_judging.ci95)} without`,
    );
  }
  for (const entry of judging.position_bias.filter((candidate) => candidate.scorer === scorer)) {
    lines.push(`position bias, ${entry.by.model}: ${pct(entry.share)} of ${entry.n} pairs judged differently when swapped; answer shown first picked ${pct(entry.first_position)}`);
  }
  for (const panel of judging.panels.filter((candidate) => candidate.scorer === scorer)) {
    const pairs = panel.pairwise.map((pair) => `${pair.a}–${pair.b} ${num(pair.kappa)}`).join(", ");
    const reliability = panel.dawid_skene
      ? Object.entries(panel.dawid_skene.reliability)
          .map(([judge, value]) => `${judge} ${num(value)}`)
          .join(", ")
      : "—";
    lines.push(`panel of ${panel.judges.length} (majority; a tie goes to the first judge): Fleiss' kappa ${num(panel.fleiss_kappa)} on ${panel.complete_items} items; Cohen's kappa ${pairs}`);
    lines.push(`  Dawid–Skene reliability (no labels): ${reliability}`);
  }
  for (const entry of (judging.corrected ?? []).filter((candidate) => candidate.scorer === scorer)) {
    lines.push(
      `corrected for judge error, ${entry.by.model}: ${entry.metric} ${num(entry.observed)} raw → ${num(entry.corrected)} ${interval(entry.ci95)} (Rogan–Gladen; sensitivity ${num(entry.sensitivity)}, specificity ${num(entry.specificity)} from ${entry.judge_eval})`,
    );
  }
  for (const entry of (judging.provenance ?? []).filter((candidate) => candidate.scorer === scorer)) {
    const agreement = entry.agreement
      ? `agreement with the ${entry.agreement.reference_label} ${num(entry.agreement.accuracy)}, kappa ${num(entry.agreement.kappa)} on ${entry.agreement.n} items (${entry.agreement.judge_eval})`
      : "no judge-eval of this judge and prompt in the results folder";
    lines.push(`provenance: ${entry.judge}, prompt sha256 ${entry.prompt_sha256?.slice(0, 12) ?? "—"}, ${settingsText(entry.settings)}; ${agreement}`);
  }
  return lines;
}

function settingsText(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
}
