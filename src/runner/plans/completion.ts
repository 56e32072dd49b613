import { ProviderError } from "../../providers/errors.js";
import type { Plan } from "./types.js";

/**
 * The model under test continues the item's text: one plain completions request (OpenAI's /v1/completions
 * `prompt`, llama.cpp with no chat template), not a chat turn. For benchmarks that measure how a model
 * continues text, as RealToxicityPrompts does. The item must be one user message with no system framing;
 * targets that only chat are refused before the run (`targetCapabilities`). `plan_options.template` puts the
 * item's text into a fixed context first, at `{prompt}` (TruthfulQA's few-shot QA preamble).
 */
export const completionPlan: Plan = {
  name: "completion",
  description: "the model under test continues the item's text: a plain completions request, no chat template, no roles",
  roles: [],
  targetCapabilities: ["complete"],
  reusable: true,
  async run({ sample, complete, transcript, options }) {
    const turns = sample.conversation;
    if (turns.length !== 1 || turns[0]!.role !== "user" || sample.personaSystemPrompt !== undefined) {
      const shape = [...(sample.personaSystemPrompt !== undefined ? ["persona_system_prompt"] : []), ...turns.map((message) => message.role)].join(", ");
      throw new ProviderError("client_error", `the completion plan continues one text, but item ${sample.id} is a conversation (${shape}); give it a single prompt with no system message`);
    }
    const response = await complete("target", { prompt: fillTemplate(options.template, turns[0]!.content) });
    // The transcript's messages object, so the row stores the prompt once (compactRow).
    return { messages: transcript.at(-1)!.messages, response: response.text, finishReason: response.finishReason };
  },
};

/** The text sent: the item's text alone, or the template with it at `{prompt}` (one pass: the item's text is never read for placeholders). */
function fillTemplate(template: unknown, text: string): string {
  if (template === undefined) return text;
  if (typeof template !== "string" || !template.includes("{prompt}")) {
    throw new ProviderError("client_error", "plan_options.template of the completion plan must be text holding {prompt}, where the item's text goes");
  }
  return template.replace(/\{prompt\}/g, () => text);
}
