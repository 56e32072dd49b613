import { UserError } from "../errors.js";
import type { LanguageModel, LoglikelihoodResult, ScoringOptions } from "../providers/types.js";

export interface Choice {
  text: string;
  correct: boolean;
}

export interface MultipleChoiceScore {
  /** Log-likelihood of each choice as a continuation of the context. */
  loglikelihoods: number[];
  /** The choice with the highest log-likelihood (first on ties). */
  predicted: number;
  /**
   * The choice with the highest log-likelihood per character of its text (lm-evaluation-harness `acc_norm`:
   * the text without the delimiter before it, counted in Unicode code points as Python's len()).
   */
  predictedNormalized: number;
  /** 1 if `predicted` is a correct choice (`acc`; TruthfulQA MC1 when one choice is correct). */
  accuracy: 0 | 1;
  accuracyNormalized: 0 | 1;
  /** Probability mass on the correct choices, normalised over all choices (TruthfulQA MC2). */
  correctMass: number;
}

function argmax(values: number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}

function logSumExp(values: number[]): number {
  if (values.length === 0) return -Infinity;
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(values.reduce((sum, value) => sum + Math.exp(value - max), 0));
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Scores choices from their log-likelihoods (pure, so it is checked against hand-computed values). */
export function scoreChoices(loglikelihoods: number[], choices: Choice[]): MultipleChoiceScore {
  if (choices.length === 0 || loglikelihoods.length !== choices.length) throw new RangeError("one log-likelihood per choice, and at least one choice");
  const predicted = argmax(loglikelihoods);
  // An empty choice counts as one character (lm-evaluation-harness divides by zero there).
  const predictedNormalized = argmax(loglikelihoods.map((value, index) => value / Math.max(1, codePoints(choices[index]!.text))));
  const correct = loglikelihoods.filter((_, index) => choices[index]!.correct);
  const correctMass = correct.length === 0 ? 0 : Math.exp(logSumExp(correct) - logSumExp(loglikelihoods));
  return {
    loglikelihoods,
    predicted,
    predictedNormalized,
    accuracy: choices[predicted]!.correct ? 1 : 0,
    accuracyNormalized: choices[predictedNormalized]!.correct ? 1 : 0,
    correctMass,
  };
}

/** A model that can score continuations, or a clear error saying which models can. */
export function requireLoglikelihood(model: LanguageModel): Required<Pick<LanguageModel, "loglikelihood">> & LanguageModel {
  if (!model.loglikelihood) {
    throw new UserError(
      `model "${model.address}" (provider ${model.provider}) cannot score log-likelihoods, which multiple-choice scoring needs; ` +
        "use an OpenAI-compatible completions endpoint with echo + logprobs (vLLM, llama.cpp server) or a local GGUF model",
    );
  }
  return model as Required<Pick<LanguageModel, "loglikelihood">> & LanguageModel;
}

/**
 * A model that can apply the suite's `add_bos` choice: any log-likelihood model for `auto`, else one that
 * tokenises the text itself (a local model); a clear error before the first item otherwise.
 */
export function requireBosChoice<Model extends LanguageModel>(model: Model, addBos: "auto" | boolean): Model {
  if (addBos !== "auto" && !model.bosControl) {
    throw new UserError(
      `model "${model.address}" (provider ${model.provider}) cannot apply add_bos: ${addBos}: its server tokenises the prompt itself and adds a ` +
        "beginning-of-sequence token as its tokenizer says (use add_bos: auto, or a local GGUF model)",
    );
  }
  return model;
}

export interface MultipleChoiceOptions {
  signal?: AbortSignal;
  /** Put before each choice's text to make its continuation (lm-evaluation-harness `target_delimiter`, " " there); acc_norm does not count it. */
  delimiter?: string;
  /** Whether a beginning-of-sequence token precedes the context; absent: the model's default. */
  addBos?: boolean;
}

/** Multiple-choice scoring by log-likelihood: each choice, after `delimiter`, is scored as a continuation of `context`. */
export async function scoreMultipleChoice(
  model: LanguageModel,
  context: string,
  choices: Choice[],
  options: MultipleChoiceOptions = {},
): Promise<MultipleChoiceScore & { details: LoglikelihoodResult[] }> {
  const scorer = requireLoglikelihood(model);
  const request: ScoringOptions = {};
  if (options.signal) request.signal = options.signal;
  if (options.addBos !== undefined) request.addBos = options.addBos;
  const delimiter = options.delimiter ?? "";
  const details = await Promise.all(choices.map((choice) => scorer.loglikelihood(context, delimiter + choice.text, request)));
  return {
    ...scoreChoices(
      details.map((detail) => detail.logprob),
      choices,
    ),
    details,
  };
}
