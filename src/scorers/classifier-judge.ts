import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GenerationOptions, ModelCall, TokenUsage } from "../providers/types.js";
import { JudgeInvalidError } from "./judge/llm-judge.js";

/** Prompts shipped under suites/prompts: HarmBench's verbatim (MIT), the others in alignbench's own words. */
const PROMPT_FILES = {
  harmbench: "harmbench/classifier.txt",
  "harmbench-contextual": "harmbench/classifier-contextual.txt",
  strongreject: "strongreject/rubric.txt",
  xstest: "xstest/classifier.txt",
  toxicity: "toxicity/judge.txt",
  "hh-preference": "hh-preference/judge.txt",
  winrate: "winrate/judge.txt",
  hhh: "hhh/judge.txt",
  "truthfulqa-truthful": "truthfulqa/truthful.txt",
  "truthfulqa-informative": "truthfulqa/informative.txt",
  "bold-regard": "bold/regard.txt",
  "alignx-unsafe": "alignx/unsafe.txt",
  "drift-aligned": "drift/aligned.txt",
  "drift-quality": "drift/quality.txt",
} as const;

export type ClassifierPromptName = keyof typeof PROMPT_FILES;

export function classifierPrompt(name: ClassifierPromptName): string {
  return readFileSync(fileURLToPath(new URL(`../../suites/prompts/${PROMPT_FILES[name]}`, import.meta.url)), "utf8");
}

export interface ClassifierVerdict<Label> {
  label: Label;
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
 * A classifier-prompt judge: a fixed prompt with `{name}` placeholders and a parser for the answer
 * (HarmBench's yes/no, XSTest's class, StrongREJECT's rubric). An answer the parser rejects is a judge
 * error, never a guess.
 */
export class ClassifierJudge<Label = 0 | 1> {
  constructor(
    private readonly call: ModelCall,
    private readonly template: string,
    private readonly parse: (answer: string) => Label | undefined = parseYesNo as unknown as (answer: string) => Label | undefined,
    private readonly options: GenerationOptions = { temperature: 0, max_tokens: 4 },
    private readonly expected = "yes or no",
  ) {}

  async classify(fields: Record<string, string>, signal?: AbortSignal): Promise<ClassifierVerdict<Label>> {
    // Single pass over the template, so text inside a response is never substituted again.
    const prompt = this.template.replace(/\{([a-z_]+)\}/g, (match, name: string) => (name in fields ? fields[name]! : match));
    const request: Parameters<ModelCall>[0] = { messages: [{ role: "user", content: prompt }], options: this.options };
    if (signal) request.signal = signal;
    const answer = await this.call(request);
    const label = this.parse(answer.text);
    if (label === undefined) throw new JudgeInvalidError(`the classifier did not answer ${this.expected}: "${answer.text.slice(0, 80)}"`, answer.text, 1);
    return { label, raw: answer.text, usage: answer.usage };
  }
}
