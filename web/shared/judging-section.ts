import type { RunReport } from "../../src/reports/report-types.js";
import { judgingNotes } from "../../src/reports/judging-notes.js";
import { LEADERBOARD_HEADER, LEADERBOARD_NOTE, leaderboardCells } from "../../src/reports/judge-leaderboard.js";
import { h, table } from "./dom.js";
import { section } from "./section-card.js";

/**
 * The judges behind the run's numbers (summary.json's judging block): per scorer, what its judge gave
 * (refusals and unparseable answers apart), repeats, position bias, panel agreement, corrected rates and
 * provenance; and, for judge-evals run together, the judge leaderboard. Absent when no judge scored.
 */
export function judgingSection(run: RunReport): HTMLElement | null {
  const judging = run.summary.judging;
  if (!judging) return null;
  const scorers = run.summary.scorers.map((scorer) => scorer.name).filter((name) => judgingNotes(run.summary, name).length > 0);
  return section(
    "Judges",
    "judges",
    ...scorers.map((name) => h("div", { class: "judging-scorer" }, h("h3", {}, name), h("ul", {}, ...judgingNotes(run.summary, name).map((line) => h("li", {}, line))))),
    judging.leaderboard?.length
      ? h(
          "div",
          { class: "judging-leaderboard" },
          h("h3", {}, "Judge leaderboard (same labels; best kappa first)"),
          table(LEADERBOARD_HEADER, judging.leaderboard.map(leaderboardCells), { class: "leaderboard-table" }),
          h("p", { class: "note" }, LEADERBOARD_NOTE),
        )
      : null,
  );
}
