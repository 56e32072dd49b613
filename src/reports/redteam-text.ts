import { inertLine } from "../common/inert-text.js";
import type { AttackCell, RedTeamSummary } from "../metrics/redteam-summary.js";

// The red-team summary on the terminal: success rates per strategy (most effective first) and per category,
// with intervals, and the judge failures apart. Names come from the run's data: printed inert.

const pct = (value: number | null) => (value === null ? "   –  " : `${(value * 100).toFixed(1).padStart(5)}%`);

function line(name: string, cell: AttackCell): string {
  const ci = cell.success_rate.ci95 ? `[${pct(cell.success_rate.ci95[0]).trim()}, ${pct(cell.success_rate.ci95[1]).trim()}]` : "";
  const queries = cell.queries_to_success.estimate === null ? "" : ` · ${cell.queries_to_success.estimate.toFixed(1)} queries to success`;
  const failed = cell.judge_failed > 0 ? ` · ${cell.judge_failed} undecided (judge)` : "";
  return `  ${inertLine(name).padEnd(34)} ${pct(cell.success_rate.estimate)} ${ci.padEnd(17)} n ${String(cell.decided).padStart(4)}${queries}${failed}`;
}

export function renderRedTeamSummary(summary: RedTeamSummary): string {
  const lines = [`Attack success rate at severity ≥ ${summary.threshold}`, line("all attacks", summary.overall), "", "by strategy (most effective first)"];
  for (const entry of summary.most_effective) lines.push(line(entry.strategy, summary.by_strategy[entry.strategy]!));
  lines.push("", "by category");
  for (const [category, cell] of Object.entries(summary.by_category)) lines.push(line(category, cell));
  const overall = summary.overall;
  if (overall.judge_failed > 0 || overall.judge_refused_turns + overall.judge_unparseable_turns > 0)
    lines.push("", `judge: refused ${overall.judge_refused_turns} turn(s), no usable grade on ${overall.judge_unparseable_turns}; ${overall.judge_failed} attack(s) undecided, left out of the rates`);
  return lines.join("\n");
}
