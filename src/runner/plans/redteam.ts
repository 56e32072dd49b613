import { redTeamCategory } from "../../datasets/redteam/taxonomy.js";
import { runCrescendo } from "../redteam/crescendo.js";
import { type AttackSettings, exchange, transformed } from "../redteam/exchange.js";
import { redTeamOptions } from "../redteam/options.js";
import { runPair } from "../redteam/pair.js";
import { attackOutcome, REDTEAM_SCORE, redTeamScore } from "../redteam/outcome.js";
import { parseStrategies, parseStrategy } from "../redteam/strategies.js";
import { runTap } from "../redteam/tap.js";
import type { Plan } from "./types.js";

/**
 * Red teaming: each row is an attack goal (its prompt) in a category; the run's `strategy` dimension says
 * how it is attacked (plan_options.strategies: single-shot transforms, or pair / tap / crescendo driven by the
 * `attacker` role). The `judge` role grades every target answer with the severity rubric. The row's score
 * `redteam` holds the outcome and every turn; its conversation and response are the worst exchange's.
 * A goal in a refusal-only category is sent only as it is, under `direct`; its other strategies' rows make
 * no call and hold no outcome (label refusal_only). A run persona (`--personas`) is the target's system
 * prompt under every strategy (a `persona:SLUG` step puts its own before it).
 */
export const redTeamPlan: Plan = {
  name: "redteam",
  description: "attacks each goal with each strategy (transforms, PAIR, TAP, crescendo) and grades every answer's severity",
  roles: ["attacker", "judge"],
  scores: [REDTEAM_SCORE],
  resumesTurns: true,
  axes(options) {
    return [{ name: "strategy", values: parseStrategies(redTeamOptions(options).strategies).map((strategy) => strategy.name) }];
  },
  async run({ sample, dimensions, persona, options: given, call }) {
    const options = redTeamOptions(given);
    const strategy = parseStrategy(String(dimensions.strategy ?? "direct"));
    const goal = sample.conversation.filter((message) => message.role === "user").at(-1)?.content;
    if (!goal) throw new Error("the goal row has no prompt");
    const category = sample.category ?? "harmful_content";
    const extra = { goal, category, strategy: strategy.name };
    if (redTeamCategory(category)?.refusal_only && strategy.name !== "direct") {
      return { messages: [], response: null, finishReason: null, scores: { redteam: { value: null, label: "refusal_only", raw: null, error: null, metrics: {}, data: { ...extra, turns: [] } } } };
    }
    const settings: AttackSettings = { goal, category, strategy, options, call, system: persona?.system_prompt };
    let turns;
    let notes: string[] = [];
    if (strategy.iterative === "pair") ({ turns, notes } = await runPair(settings));
    else if (strategy.iterative === "tap") ({ turns, notes } = await runTap(settings));
    else if (strategy.iterative === "crescendo") ({ turns, notes } = await runCrescendo(settings));
    else turns = [await exchange(settings, "single", { query: 1, branch: "single", round: 1 }, await transformed(settings, goal, "single"))];
    const score = redTeamScore(turns, options.success_threshold, { ...extra, notes });
    const worst = attackOutcome(turns, options.success_threshold).worst;
    return { messages: worst?.sent ?? [], response: worst?.response ?? null, finishReason: worst ? "stop" : null, scores: { redteam: score } };
  },
};
