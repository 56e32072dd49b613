import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { CorrectedEntry, ProvenanceEntry } from "../metrics/judging/judging-summary.js";
import { correctedRate } from "../metrics/judging/rogan-gladen.js";
import type { RunSummary } from "../metrics/summary.js";
import { folderFiles } from "../results/run-folder.js";
import type { JudgeProvenance } from "../scorers/types.js";
import type { JudgeEvalReport } from "./judge-eval.js";

// What a run knows of its judges from outside itself: judge-evals in the same results folder that measured
// the same judge model on the same scorer and prompt against labels. With one, the summary shows the judge's
// measured agreement beside its numbers (provenance) and each rate corrected for the judge's errors
// (Rogan–Gladen, with a bootstrap over both the run and the judge-eval). Without one, provenance alone.

/** The seed of the corrected rates' bootstrap (recorded with each). */
export const CORRECTION_SEED = 20231;

interface FoundEval {
  folder: string;
  report: JudgeEvalReport;
}

/** Every judge-eval report among the run folders beside `folder` (unreadable ones are skipped: they are not this run's). */
async function judgeEvalsBeside(folder: string): Promise<FoundEval[]> {
  const parent = dirname(resolve(folder));
  const found: FoundEval[] = [];
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return found;
  }
  for (const name of names) {
    const file = folderFiles(join(parent, name)).judgeEval;
    if (name === basename(folder) || !existsSync(file)) continue;
    try {
      const report = JSON.parse(await readFile(file, "utf8")) as JudgeEvalReport;
      if (typeof report.judge === "string" && report.overall?.confusion) found.push({ folder: join(parent, name), report });
    } catch {
      // A judge-eval being written, or damaged: not evidence.
    }
  }
  return found;
}

/** The judge-eval that measured this judge on this scorer and prompt (the one with the most items), if any. */
export function matchingEval(evals: FoundEval[], scorer: string, judge: JudgeProvenance): FoundEval | undefined {
  const base = scorer.includes("/") ? scorer.slice(scorer.lastIndexOf("/") + 1) : scorer;
  const matches = evals.filter(
    ({ report }) =>
      (report.scorer ?? "harmbench_classifier") === base && report.judge === judge.model && (!report.prompt_sha256 || !judge.prompt_sha256 || report.prompt_sha256 === judge.prompt_sha256),
  );
  return matches.sort((a, b) => b.report.overall.n - a.report.overall.n)[0];
}

/** Adds provenance and corrected rates to the summary's judging block (in place). */
export async function addJudgeEvidence(summary: RunSummary, folder: string): Promise<void> {
  const judged = summary.scorers.filter((declaration) => declaration.judge);
  if (judged.length === 0) return;
  summary.judging ??= { judges: [], repeats: [], position_bias: [], panels: [] };
  const evals = await judgeEvalsBeside(folder);
  const provenance: ProvenanceEntry[] = [];
  const corrected: CorrectedEntry[] = [];
  const byModel = summary.breakdowns.find((breakdown) => breakdown.dimensions.length === 1 && breakdown.dimensions[0] === "model");
  for (const declaration of judged) {
    const judge = declaration.judge!;
    const found = matchingEval(evals, declaration.name, judge);
    provenance.push({
      scorer: declaration.name,
      judge: judge.model,
      prompt_sha256: judge.prompt_sha256,
      settings: judge.settings,
      agreement: found
        ? { judge_eval: found.folder, n: found.report.overall.n, accuracy: found.report.overall.accuracy, kappa: found.report.overall.kappa, reference_label: found.report.reference_label }
        : null,
    });
    const metric = declaration.metrics[0];
    if (!found || metric.kind.type !== "rate") continue;
    const [[tn, fp], [fn, tp]] = found.report.overall.confusion;
    for (const group of byModel?.groups ?? []) {
      const summaryOf = group.scores[declaration.name]?.[metric.name];
      if (!summaryOf || summaryOf.successes === undefined || summaryOf.n === 0) continue;
      const rate = correctedRate(summaryOf.successes, summaryOf.n, { tp, fn, tn, fp }, { seed: CORRECTION_SEED });
      if (rate) corrected.push({ scorer: declaration.name, metric: metric.name, judge: judge.model, by: group.by, judge_eval: found.folder, ...rate });
    }
  }
  summary.judging.provenance = provenance;
  if (corrected.length > 0) summary.judging.corrected = corrected;
}
