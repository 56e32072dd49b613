import { readFile } from "node:fs/promises";
import { judgeLeaderboard, type LeaderboardEntry } from "../metrics/judging/leaderboard.js";
import type { RunSummary } from "../metrics/summary.js";
import { writeJsonAtomically } from "../results/manifest.js";
import { defaultRunId, folderFiles } from "../results/run-folder.js";
import { judgeEval, type JudgeEvalOptions, type JudgeEvalReport } from "./judge-eval.js";

// `judge-eval --judge-model a,b,c`: each judge measured on the same labels, one judge-eval run folder each
// (resumable on its own, `<run-id>_<judge>`), then a leaderboard of all of them, printed and written into
// each folder's summary.json (judging.leaderboard) so its report shows the others beside it.

/** A judge's address as part of a folder name. */
export function judgeSlug(judge: string): string {
  return judge.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "judge";
}

export async function judgeEvalMany(options: Omit<JudgeEvalOptions, "judgeModel">, judges: string[]): Promise<{ reports: JudgeEvalReport[]; leaderboard: LeaderboardEntry[] }> {
  const base = options.runId ?? `judge-eval_${defaultRunId()}`;
  const reports: JudgeEvalReport[] = [];
  for (const judge of judges) {
    if (options.stopSignal?.aborted) break;
    options.reporter?.onMessage?.(`judge ${reports.length + 1} of ${judges.length}: ${judge}`);
    const report = await judgeEval({ ...options, judgeModel: judge, runId: `${base}_${judgeSlug(judge)}` });
    reports.push(report);
    if (report.interrupted) break;
  }
  const leaderboard = judgeLeaderboard(reports);
  for (const report of reports) {
    const file = folderFiles(report.folder).summary;
    const summary = JSON.parse(await readFile(file, "utf8")) as RunSummary;
    summary.judging = { ...(summary.judging ?? { judges: [], repeats: [], position_bias: [], panels: [] }), leaderboard };
    await writeJsonAtomically(file, summary);
  }
  return { reports, leaderboard };
}
