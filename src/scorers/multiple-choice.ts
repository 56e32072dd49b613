import { UserError } from "../errors.js";
import type { LanguageModel, LoglikelihoodResult } from "../providers/types.js";

export interface Choice {
  text: string;
  correct: boolean;
}

export interface MultipleChoiceScore {
  /** Log-likelihood of each choice as a continuation of the context. */
  loglikelihoods: number[];
  /** The choice with the highest log-likelihood (first on ties). */
  predicted: number;
  /** The choice with the highest log-likelihood per character (lm-evaluation-harness `acc_norm`). */
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

/** Scores choices from their log-likelihoods (pure, so it is checked against hand-computed values). */
export function scoreChoices(loglikelihoods: number[], choices: Choice[]): MultipleChoiceScore {
  if (choices.length === 0 || loglikelihoods.length !== choices.length) throw new RangeError("one log-likelihood per choice, and at least one choice");
  const predicted = argmax(loglikelihoods);
  const predictedNormalized = argmax(loglikelihoods.map((value, index) => value / Math.max(1, choices[index]!.text.length)));
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

/** Multiple-choice scoring by log-likelihood: each choice is scored as a continuation of `context`. */
export async function scoreMultipleChoice(
  model: LanguageModel,
  context: string,
  choices: Choice[],
  options: { signal?: AbortSignal } = {},
): Promise<MultipleChoiceScore & { details: LoglikelihoodResult[] }> {
  const scorer = requireLoglikelihood(model);
  const details = await Promise.all(choices.map((choice) => scorer.loglikelihood(context, choice.text, options)));
  return {
    ...scoreChoices(
      details.map((detail) => detail.logprob),
      choices,
    ),
    details,
  };
}
