import { ClassifierJudge, classifierPrompt, type ClassifierPromptName } from "./classifier-judge.js";
import type { Scorer, ScorerContext, ScorerDeclaration } from "./types.js";

// What a built-in scorer is, and the pieces several share. A new scorer is one file exporting a
// BuiltinScorer, plus one line in registry.ts's table.

/** Settings from the run's config that some scorers read. */
export interface ScorerOptions {
  /** The context each multiple-choice option continues, with {prompt}. */
  mcTemplate?: string;
  /** Whether a beginning-of-sequence token precedes that context ("auto": the model's tokenizer default). */
  addBos?: "auto" | boolean;
}

export interface BuiltinScorer extends Omit<Scorer, "name" | "score" | "declaration"> {
  /** The scorer's metrics: the first is its value; see types.ts. */
  metrics: ScorerDeclaration["metrics"];
  /** The classifier prompt it uses, replaceable with `scorer_prompts`. */
  prompt?: ClassifierPromptName;
  create(template: string | undefined, options: ScorerOptions): Scorer["score"];
}

export const lastUserPrompt = (context: ScorerContext) => context.messages.filter((message) => message.role === "user").at(-1)?.content ?? "";

/**
 * What the benchmark asked: the item's behaviour (behavior_field, e.g. HarmBench's Behavior under a jailbreak
 * that wraps it), else its own prompt without the persona's framing.
 */
export const itemPrompt = (context: ScorerContext) => {
  const behavior = context.sample.metadata?.behavior;
  return typeof behavior === "string" ? behavior : (context.sample.conversation.at(-1)?.content ?? lastUserPrompt(context));
};

/**
 * A scorer that asks the judge model a classifier prompt over the item's prompt and the response
 * (`{prompt}`, `{response}`) — the suite's prompt or the one the user gave, greedy and short — and turns
 * the parsed answer into the score's value and label.
 */
export function judgeScore<Label>(
  prompt: ClassifierPromptName,
  parse: (answer: string) => Label | undefined,
  maxTokens: number,
  expected: string,
  toScore: (answer: Label) => { value: number; label: string },
): BuiltinScorer["create"] {
  return (template) => async (context) => {
    const judge = new ClassifierJudge(context.services.judge!, template ?? classifierPrompt(prompt), parse, { temperature: 0, max_tokens: maxTokens }, expected);
    const { label, raw } = await judge.classify({ prompt: itemPrompt(context), response: context.response }, context.signal);
    return { ...toScore(label), raw, error: null };
  };
}
