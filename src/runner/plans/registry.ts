import { UserError } from "../../errors.js";
import { nearest } from "../../config/suggest.js";
import { generatePlan, noResponsePlan } from "./generate.js";
import { multiTurnPlan } from "./multi-turn.js";
import { completionPlan } from "./completion.js";
import { pairwisePlan } from "./pairwise.js";
import { chatContinuationPlan } from "./chat-continuation.js";
import { driftPlan } from "./drift.js";
import type { Plan } from "./types.js";

/** The built-in plans: one line each; each is one file in this folder. */
const BUILTIN: Plan[] = [generatePlan, noResponsePlan, multiTurnPlan, completionPlan, pairwisePlan, chatContinuationPlan, driftPlan];

const PLANS = new Map<string, Plan>(BUILTIN.map((plan) => [plan.name, plan]));

/** Adds a plan (a suite or a test names it by `plan.name`). */
export function registerPlan(plan: Plan): void {
  PLANS.set(plan.name, plan);
}

export function planNamed(name: string): Plan {
  const plan = PLANS.get(name);
  if (plan) return plan;
  const near = nearest(name, [...PLANS.keys()]);
  throw new UserError(`unknown plan "${name}"${near ? ` (did you mean "${near}"?)` : ""}; plans: ${[...PLANS.keys()].join(", ")}`);
}

export function planNames(): string[] {
  return [...PLANS.keys()];
}
