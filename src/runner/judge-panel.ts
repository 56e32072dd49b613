import type { RunConfig } from "../config/schema.js";
import { UserError } from "../errors.js";
import { panelScorer, repeatedScorer, withJudgeCall } from "../scorers/judge/judgings.js";
import type { Scorer } from "../scorers/types.js";
import { verdictScorer } from "../scorers/verdict.js";
import type { PreparedJudge } from "./prepare.js";

// How the run's judge scorers judge: once by the judge model (the default), by a panel of judges
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
