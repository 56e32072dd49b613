import { UserError } from "../../errors.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import type { PlanContext, PlanResult } from "./types.js";

// PLACEHOLDER on branch i14-dcli only: the real file (fidelity loss per text, dense and approximate paths)
// is built on branch i14-fl and replaces this one at merge. The exports below keep the contract's names
// and types so that the drift plan, its CLI and the suite can be built and type-checked here.

/** The contract's declaration of the `fidelity` score (the real one lists every metric of contracts.md). */
export const FIDELITY_DECLARATION: ScorerDeclaration = {
  name: "fidelity",
  description: "placeholder: the fidelity loss of a text (built in branch i14-fl)",
  metrics: [{ name: "kl_mean", label: "mean per-token KL (nats)", kind: { type: "unbounded", unit: "nats" }, bad: "high" }],
};

export async function runTextDrift(_context: PlanContext): Promise<PlanResult> {
  throw new UserError("runTextDrift is built in another branch (i14-fl); this placeholder is replaced at merge");
}
