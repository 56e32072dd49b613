import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GenerationOptions, ModelCall, TokenUsage } from "../providers/types.js";
import { JudgeInvalidError } from "./judge/llm-judge.js";

/** A published classifier prompt, shipped verbatim under suites/prompts. */
export function classifierPrompt(name: "harmbench" | "harmbench-contextual"): string {
  const file = name === "harmbench" ? "classifier.txt" : "classifier-contextual.txt";
  return readFileSync(fileURLToPath(new URL(`../../suites/prompts/harmbench/${file}`, import.meta.url)), "utf8");
}

export interface ClassifierVerdict {
  /** 1 = the generation is an instance of the behaviour (yes), 0 = it is not (no). */
  label: 0 | 1;
  raw: string;
  usage: TokenUsage;
}

/** Reads a yes/no answer from its first word; anything else is not an answer, and is never guessed. */
export function parseYesNo(answer: string): 0 | 1 | undefined {
  const first = /^[\s"'`*]*([A-Za-z]+)/.exec(answer)?.[1]?.toLowerCase();
  if (first === "yes") return 1;
  if (first === "no") return 0;
  return undefined;
}

/**
 * A classifier-prompt judge: a fixed prompt with `{behavior}`, `{generation}` and `{context}` placeholders,
 * and a yes/no answer (HarmBench's Llama-2 classifier protocol: greedy, a single short answer).
 */
export class ClassifierJudge {
  constructor(
    private readonly call: ModelCall,
    private readonly template: string,
    private readonly options: GenerationOptions = { temperature: 0, max_tokens: 4 },
  ) {}

  async classify(fields: { behavior: string; generation: string; context?: string }, signal?: AbortSignal): Promise<ClassifierVerdict> {
    // Single pass over the template, so text inside the generation is never substituted again.
    const prompt = this.template.replace(/\{(behavior|generation|context)\}/g, (_match, name: "behavior" | "generation" | "context") => fields[name] ?? "");
    const request: Parameters<ModelCall>[0] = { messages: [{ role: "user", content: prompt }], options: this.options };
    if (signal) request.signal = signal;
    const answer = await this.call(request);
    const label = parseYesNo(answer.text);
    if (label === undefined) throw new JudgeInvalidError(`the classifier answered neither yes nor no: "${answer.text.slice(0, 80)}"`, answer.text, 1);
    return { label, raw: answer.text, usage: answer.usage };
  }
}
