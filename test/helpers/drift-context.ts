import type { LanguageModel } from "../../src/providers/types.js";
import type { PlanContext } from "../../src/runner/plans/types.js";

/** A plan context for one drift text row: the fine-tuned model as target, its base as role base; no chat calls. */
export function driftContext(target: LanguageModel, base: LanguageModel, text: string, options: Record<string, unknown> = {}): PlanContext {
  const role = (name: string, model: LanguageModel) => ({
    role: name,
    address: model.address,
    options: {},
    call: () => Promise.reject(new Error("a drift text row makes no chat call")),
    scoring: model,
  });
  return {
    sample: { id: "t", category: "text", subcategory: "", conversation: [{ role: "user", content: text }] },
    dimensions: { test: "t", model: target.address },
    persona: undefined,
    roles: { target: role("target", target), base: role("base", base) },
    options,
    call: () => Promise.reject(new Error("a drift text row makes no chat call")),
    complete: () => Promise.reject(new Error("a drift text row makes no completion")),
    recordStored: () => undefined,
    transcript: [],
  };
}
