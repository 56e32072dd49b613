import { UserError } from "../../errors.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import type { PlanContext, PlanResult } from "./types.js";

// PLACEHOLDER on branch i14-dcli only: the real file (the target and the base answer each probe, judged
// aligned or not) is built on branch i14-ars and replaces this one at merge. The exports keep the
// contract's names and types so the drift plan, its CLI and the suite can be built here.

/** The contract's declaration of the `alignment` score (the real one lists every metric of contracts.md). */
export const ALIGNMENT_DECLARATION: ScorerDeclaration = {
  name: "alignment",
  description: "placeholder: whether the fine-tuned model's answer to a probe is aligned (built in branch i14-ars)",
  metrics: [{ name: "aligned", label: "aligned", kind: { type: "rate" }, bad: "low" }],
};

export async function runProbeDrift(_context: PlanContext): Promise<PlanResult> {
  throw new UserError("runProbeDrift is built in another branch (i14-ars); this placeholder is replaced at merge");
}
