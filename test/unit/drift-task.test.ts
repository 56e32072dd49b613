import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import type { LanguageModel } from "../../src/providers/types.js";
import { driftPlan } from "../../src/runner/plans/drift.js";
import { runTaskDrift } from "../../src/runner/plans/drift-task.js";
import type { PlanContext } from "../../src/runner/plans/types.js";

// The task rows of a drift run (drift --task): each multiple-choice item scored by log-likelihood under the
// fine-tuned model and its base, with the suite's scorer, context template and add_bos. The two models here
// are hand-made: each "knows" a set of questions (gives the true choice the higher log-likelihood there,
// the false one elsewhere), so every item's score under each model is known in advance.

function knower(address: string, knows: Set<string>, seen: Array<[string, string]>): LanguageModel {
  return {
    address,
    provider: "test",
    modelId: address,
    defaults: {},
    generate: () => Promise.reject(new Error("a task row generates nothing")),
    async loglikelihood(context, continuation) {
      seen.push([context, continuation]);
      const question = /Q: (.*)\nA:$/.exec(context)?.[1] ?? "";
      const right = continuation === " true answer";
      return { logprob: knows.has(question) === right ? -1 : -3, isGreedy: false, tokens: [] };
    },
  };
}

const CHOICES = [
  { text: "false answer", correct: false },
  { text: "true answer", correct: true },
];
const OPTIONS = { task: "test-mc", task_scorer: "multiple_choice", task_mc_template: "Q: {prompt}\nA:", task_add_bos: "auto" };

function context(target: LanguageModel, base: LanguageModel, id: string, options: Record<string, unknown> = OPTIONS): PlanContext {
  const role = (name: string, model: LanguageModel) => ({ role: name, address: model.address, options: {}, call: () => Promise.reject(new Error("no chat call")), scoring: model });
  return {
    sample: { id, category: "x", subcategory: "", conversation: [{ role: "user", content: id }], metadata: { choices: CHOICES, tags: { part: "task_in_domain" } } },
    dimensions: { test: id, model: target.address, epoch: 1 },
    persona: undefined,
    roles: { target: role("target", target), base: role("base", base) },
    options,
    call: () => Promise.reject(new Error("no chat call")),
    complete: () => Promise.reject(new Error("no completion")),
    recordStored: () => undefined,
    transcript: [],
  };
}

describe("drift task rows", () => {
  it("score each item under both models with the suite's template: known items right, the rest wrong", async () => {
    const seen: Array<[string, string]> = [];
    const ft = knower("ft", new Set(["q1", "q2"]), seen);
    const base = knower("base", new Set(["q2", "q3"]), []);
    const scores = [];
    for (const id of ["q1", "q2", "q3", "q4"]) scores.push((await runTaskDrift(context(ft, base, id))).scores!.task!);
    expect(scores.map((score) => [score.metrics!.s_target, score.metrics!.s_base])).toEqual([
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ]);
    expect(scores[0]!.value).toBe(1);
    expect(scores[0]!.data).toMatchObject({ task: "test-mc", scorer: "multiple_choice" });
    // Each choice continues the suite's context after one space (lm-evaluation-harness's target delimiter).
    expect(seen.slice(0, 2)).toEqual([
      ["Q: q1\nA:", " false answer"],
      ["Q: q1\nA:", " true answer"],
    ]);
  });

  it("scores an item under the base once for every checkpoint of the session", async () => {
    const baseCalls: Array<[string, string]> = [];
    const base = knower("base", new Set(["q1"]), baseCalls);
    const shared = context(knower("a", new Set(), []), base, "q1");
    await runTaskDrift(shared);
    await runTaskDrift({ ...shared, roles: { ...shared.roles, target: { ...shared.roles.target!, address: "b", scoring: knower("b", new Set(["q1"]), []) } } });
    expect(baseCalls).toHaveLength(2);
  });

  it("refuses a model without log-likelihoods before the first row, naming the task and the model", async () => {
    const chatOnly: LanguageModel = { address: "chat-only", provider: "test", modelId: "chat-only", defaults: {}, generate: () => Promise.reject(new Error("unused")) };
    const base = knower("base", new Set(), []);
    const roles = context(chatOnly, base, "q1").roles;
    await expect(driftPlan.check!(roles, OPTIONS)).rejects.toThrow(UserError);
    await expect(driftPlan.check!(roles, OPTIONS)).rejects.toThrow(/^--task test-mc: model "chat-only" \(provider test\) cannot score log-likelihoods/);
    // Without a task, the same models pass the check (their texts fail on their own terms).
    await expect(driftPlan.check!(roles, {})).resolves.toBeUndefined();
    await expect(runTaskDrift(context(chatOnly, base, "q1"))).rejects.toThrow(/cannot score log-likelihoods/);
  });

  it("refuses a scorer that does not score by log-likelihood", async () => {
    const model = knower("m", new Set(), []);
    await expect(runTaskDrift(context(model, model, "q1", { ...OPTIONS, task_scorer: "refusal_match" }))).rejects.toThrow(/scorer refusal_match does not score by log-likelihood/);
  });
});
