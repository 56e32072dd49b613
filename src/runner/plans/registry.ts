import { NamedRegistry } from "../../common/named-registry.js";
import { generatePlan, noResponsePlan } from "./generate.js";
import { multiTurnPlan } from "./multi-turn.js";
import { completionPlan } from "./completion.js";
import { pairwisePlan } from "./pairwise.js";
import { chatContinuationPlan } from "./chat-continuation.js";
import { driftPlan } from "./drift.js";
import { redTeamPlan } from "./redteam.js";
import type { Plan } from "./types.js";

/** The built-in plans: one line each; each is one file in this folder. */
const BUILTIN: Plan[] = [generatePlan, noResponsePlan, multiTurnPlan, completionPlan, pairwisePlan, chatContinuationPlan, driftPlan, redTeamPlan];

const PLANS = new NamedRegistry<Plan>("plan", "plans", (plan) => plan.name, BUILTIN);

/** Adds a plan (a suite or a test names it by `plan.name`). */
export function registerPlan(plan: Plan): void {
  PLANS.register(plan);
}

export function planNamed(name: string): Plan {
  return PLANS.named(name);
}

export function planNames(): string[] {
  return PLANS.names();
}
