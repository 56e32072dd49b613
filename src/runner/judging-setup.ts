import { createHash } from "node:crypto";
import type { RunConfig } from "../config/schema.js";
import { readTextFile } from "../io/text-file.js";
import { shippedPromptOf } from "../scorers/registry.js";
import { UserError } from "../errors.js";
import { panelScorer, repeatedScorer, withJudgeCall } from "../scorers/judge/judgings.js";
import type { Scorer } from "../scorers/types.js";
import { verdictScorer } from "../scorers/verdict.js";
import type { PreparedJudge } from "./prepare.js";

// How the run's judge scorers judge, and the record of it: once by the judge model (the default), by a panel of judges
// (`judge.panel`, `--judge-model a,b,c`) and/or k times each (`judge.repeats`, `--judge-repeats k`). The
// scorers themselves are unchanged: wrappers in scorers/judge/judgings.ts ask them several times.

/** The panel's models, the judge model first; undefined without a panel. A panel not led by the judge model is refused. */
export function panelModels(config: Pick<RunConfig, "judge" | "judge_model">): string[] | undefined {
  const panel = config.judge.panel;
  if (!panel) return undefined;
  if (new Set(panel).size !== panel.length) throw new UserError(`judge.panel: a judge is listed twice (${panel.join(", ")})`);
  if (config.judge_model && config.judge_model !== panel[0]) throw new UserError(`judge.panel must start with the judge model ${config.judge_model} (the panel's chair), not ${panel[0]}`);
  return panel;
}

/** One panel member's copy of a judge scorer: the verdict judge with the member's own judge, any other asking the member's model. */
function memberScorer(scorer: Scorer, member: PreparedJudge): Scorer {
  if (scorer.declaration.name === "verdict" || scorer.name === "verdict") {
    const made = verdictScorer(member.judge, member.address, scorer.name);
    return scorer.where ? { ...made, where: scorer.where } : made;
  }
  return withJudgeCall(scorer, member.address, member.call);
}

/** Replaces the run's judge scorers (in place) by their panel and repeat forms, as the config asks. */
export async function applyJudging(config: Pick<RunConfig, "judge" | "judge_model">, scorers: Scorer[], judge: PreparedJudge, prepare: (address: string) => Promise<PreparedJudge>): Promise<void> {
  const panel = panelModels(config);
  if (panel) {
    const members = [judge];
    for (const address of panel.slice(1)) members.push(await prepare(address));
    scorers.forEach((scorer, index) => {
      if (scorer.needs === "judge") scorers[index] = panelScorer(members.map((member) => ({ judge: member.address, scorer: memberScorer(scorer, member) })));
    });
  }
  const repeats = config.judge.repeats ?? 1;
  if (repeats > 1) scorers.forEach((scorer, index) => scorer.needs === "judge" && (scorers[index] = repeatedScorer(scorer, repeats)));
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Writes each judge scorer's provenance into its declaration (so the manifest and summary.json carry it
 * beside its numbers): the judge model, the sha256 of the prompt template it is asked (the verdict judge's
 * with its JSON Schema), and the judging settings. A scorer_prompts file replaces the built-in prompt.
 */
export async function describeJudges(config: Pick<RunConfig, "judge" | "scorer_prompts">, scorers: Scorer[], judge: PreparedJudge): Promise<void> {
  for (const [index, scorer] of scorers.entries()) {
    if (scorer.needs !== "judge") continue;
    const verdict = scorer.declaration.name === "verdict";
    const promptFile = config.scorer_prompts[scorer.name];
    const prompt = verdict ? `${judge.promptTemplate}\n${JSON.stringify(judge.schema)}` : promptFile ? await readTextFile(promptFile, `${scorer.name} prompt`) : shippedPromptOf(scorer.name);
    const settings: Record<string, unknown> = verdict
      ? { options: judge.judge.options, structured_output: config.judge.structured_output, repair_attempts: config.judge.repair_attempts }
      : { options: "the scorer's own (greedy, short answer)" };
    if ((config.judge.repeats ?? 1) > 1) settings.repeats = config.judge.repeats;
    if (config.judge.panel) settings.panel = config.judge.panel;
    scorers[index] = { ...scorer, declaration: { ...scorer.declaration, judge: { model: scorer.model ?? judge.address, prompt_sha256: prompt === undefined ? null : sha256(prompt), settings } } };
  }
}
