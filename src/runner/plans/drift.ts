import { UserError } from "../../errors.js";
import { PART_TAG } from "../../datasets/parts.js";
import { ALIGNMENT_DECLARATION, runProbeDrift } from "./drift-probes.js";
import { checkDriftVocabularies, FIDELITY_DECLARATION, runTextDrift } from "./drift-text.js";
import { checkTaskModel, runTaskDrift, TASK_DECLARATION, taskSettings } from "./drift-task.js";
import { JUDGED_DECLARATION, runJudgedDrift } from "./drift-judged.js";
import type { Plan, PlanContext, PlanResult } from "./types.js";

// Fine-tuning drift in one run: the run's models are the fine-tuned checkpoints (role target), role `base`
// is the model they were tuned from. A row's part says what is measured on it: the next-token
// distributions of both models over a text (in_domain, ood), or both models' answers to a probe (probes);
// the Drift Sensitivity Index's alternative scores add a multiple-choice suite's items scored under both
// models (task_in_domain, task_ood: drift-task.ts) and prompts both answer for a judge (judge_in_domain,
// judge_ood: drift-judged.ts).

/** Which measurement each part gets; a part of another name is refused, naming it. */
const BY_PART: Record<string, (context: PlanContext) => Promise<PlanResult>> = {
  in_domain: runTextDrift,
  ood: runTextDrift,
  probes: runProbeDrift,
  task_in_domain: runTaskDrift,
  task_ood: runTaskDrift,
  judge_in_domain: runJudgedDrift,
  judge_ood: runJudgedDrift,
};

export const driftPlan: Plan = {
  name: "drift",
  description: "fine-tuning drift against role base: texts of parts in_domain and ood get the fidelity loss (per-token KL of target vs base), probes get both models' answers judged aligned or not",
  roles: ["base"],
  scores: [FIDELITY_DECLARATION, ALIGNMENT_DECLARATION, TASK_DECLARATION, JUDGED_DECLARATION],
  // A fine-tune with another tokenizer than its base is refused before the first text, not on every row; so
  // is a task (plan option `task`) on a model without log-likelihoods.
  async check(roles, options = {}) {
    const target = roles.target?.scoring;
    const base = roles.base?.scoring;
    if (target?.tokenize && base?.tokenize) await checkDriftVocabularies(target, base);
    if (options.task !== undefined) for (const model of [target, base]) if (model) checkTaskModel(model, taskSettings(options));
  },
  run(context) {
    const tags = context.sample.metadata?.tags as Record<string, string> | undefined;
    const part = tags?.[PART_TAG];
    const measure = part === undefined ? undefined : BY_PART[part];
    if (!measure) {
      throw new UserError(
        `plan drift: item ${context.sample.id} is in part ${part === undefined ? "(none)" : `"${part}"`}; the drift plan reads parts ${Object.keys(BY_PART).join(", ")} (config datasets: with those names)`,
      );
    }
    return measure(context);
  },
};
