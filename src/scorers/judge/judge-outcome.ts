import type { Judging } from "../../results/record.js";
import type { Score } from "../types.js";
import { isJudgeRefusal } from "./judge-refusal.js";

/**
 * What a judge gave for one item, kept apart because each means something different:
 * - `verdict`: a usable answer (the score has a value or metrics).
 * - `refused`: the judge answered, but declined to grade (its answer reads as a refusal).
 * - `unparseable`: the judge answered, but never in a form that could be read (broken JSON, not A or B…).
 * - `error`: no answer at all (the call failed: timeout, rate limit, server error).
 * An answer that failed to parse keeps its text as `raw` (JudgeInvalidError); a failed call keeps none.
 */
export type JudgeOutcome = Judging["outcome"];

export const JUDGE_OUTCOMES: readonly JudgeOutcome[] = ["verdict", "refused", "unparseable", "error"];

export function judgeOutcome(score: Pick<Score, "error" | "raw">): JudgeOutcome {
  if (score.error === null || score.error === undefined) return "verdict";
  if (typeof score.raw === "string") return isJudgeRefusal(score.raw) ? "refused" : "unparseable";
  return "error";
}
