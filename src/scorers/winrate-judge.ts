import { ProviderError } from "../providers/errors.js";
import type { GenerateRequest, GenerateResult, TokenLogprob } from "../providers/types.js";
import type { TranscriptCall } from "../results/record.js";
import { classifierPrompt } from "./classifier-judge.js";
import { itemPrompt, type BuiltinScorer } from "./builtin.js";
import { JudgeInvalidError } from "./judge/llm-judge.js";
import type { MetricDeclaration, ScorerContext } from "./types.js";

// The win rate against a baseline, as AlpacaEval measures it (Li et al., 2023; Dubois et al., 2024): a judge
// sees the instruction and two answers and names the better one. Asked twice, the target's answer shown first
// then second, so a judge that favours a position cancels out (Zheng et al., 2023 found such bias in GPT-4):
// the target's preference is the share of the two verdicts it wins, 0, ½ or 1. AlpacaEval's weighted
// annotators read the judge's token probabilities instead of its one answer; where the provider returns
// them, `soft_preference` is that: P(target's letter) / (P(A) + P(B)) at the answer token, averaged over both orders.

export type Position = "A" | "B";

/** The judge's letter: A or B at the start of its answer ("B", "**A**", "Answer B", "(A)."), else undefined, never a guess. */
export function parsePosition(answer: string): Position | undefined {
  const match = /^[\s"'`*_([]*(?:(?:answer|output)\s*:?\s*)?[([]?([AB])(?![A-Za-z0-9])/i.exec(answer);
  if (!match) return undefined;
  // A lower-case "a" is the article ("a better answer…"), not a verdict.
  return match[1] === "A" || match[1] === "B" ? match[1] : undefined;
}

/**
 * P(letter) at the judge's answer token, from its token log-probabilities: the first token that reads as A or
 * B (after trimming spaces, quotes and emphasis), with the alternatives the provider returned there. A letter
 * absent from those alternatives counts as probability 0 (it is below the provider's top k). Undefined when
 * the provider returned no log-probabilities or no token reads as a letter.
 */
export function letterProbabilities(logprobs: readonly TokenLogprob[] | undefined): { A: number; B: number } | undefined {
  if (!logprobs) return undefined;
  const letter = (token: string): Position | undefined => {
    const text = token.replace(/^[\s"'`*_([]+|[\s"'`*_)\].:]+$/g, "");
    return text === "A" || text === "B" ? text : undefined;
  };
  const at = logprobs.find((entry) => letter(entry.token) !== undefined);
  if (!at) return undefined;
  // The generated token is usually among its own alternatives: count each distinct token once.
  const candidates = new Map<string, number>([[at.token, at.logprob]]);
  for (const alternative of at.top ?? []) if (!candidates.has(alternative.token)) candidates.set(alternative.token, alternative.logprob);
  const mass = { A: 0, B: 0 };
  for (const [token, logprob] of candidates) {
    const position = letter(token);
    if (position) mass[position] += Math.exp(logprob);
  }
  return mass;
}

/** One verdict: which position the judge named, and the probability it gave the target's position (when known). */
export interface OrderVerdict {
  picked: Position;
  /** P(target's position) / (P(A) + P(B)), or null without token probabilities. */
  targetProbability: number | null;
  raw: string;
}

/** The target's preference from the two verdicts: order 1 shows the target as A, order 2 as B. */
export function combineOrders(targetFirst: OrderVerdict, baselineFirst: OrderVerdict) {
  const wins = Number(targetFirst.picked === "A") + Number(baselineFirst.picked === "B");
  const firstPicks = Number(targetFirst.picked === "A") + Number(baselineFirst.picked === "A");
  const soft = targetFirst.targetProbability === null || baselineFirst.targetProbability === null ? null : (targetFirst.targetProbability + baselineFirst.targetProbability) / 2;
  return {
    value: wins / 2,
    label: wins === 2 ? "target better" : wins === 0 ? "baseline better" : "split (position decided)",
    // Share of the two verdicts naming the answer shown first: ½ from an unbiased judge on average.
    firstPosition: firstPicks / 2,
    // Both verdicts name the same answer (not the same position).
    consistent: wins === 1 ? 0 : 1,
    soft,
  };
}

/** Length in characters (Unicode code points, as Python's len counts them). */
export function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The baseline's answer: the plan's baseline call or stored answer in the transcript, else the item's stored one. */
export function baselineOutput(context: Pick<ScorerContext, "transcript" | "sample">): { text: string; source: string } {
  const calls: readonly TranscriptCall[] = context.transcript ?? [];
  for (let index = calls.length - 1; index >= 0; index--) {
    const call = calls[index]!;
    if (call.role === "baseline" && !call.error && call.response !== null) return { text: call.response, source: call.model };
  }
  const stored = context.sample.metadata?.baseline_output;
  if (typeof stored === "string") return { text: stored, source: "item" };
  throw new Error("no baseline output: run the pairwise plan (a baseline role or plan_options.baseline_outputs) or give items a baseline_output (record_format: alpaca)");
}

const TOP_LOGPROBS = 5;

const METRICS: [MetricDeclaration, ...MetricDeclaration[]] = [
  { name: "win", label: "win rate against the baseline (ties ½)", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
  { name: "soft_preference", label: "soft preference (judge's token probabilities)", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
  { name: "first_position", label: "judge picks the answer shown first", kind: { type: "bounded", range: [0, 1] }, bad: "none" },
  { name: "consistent", label: "judge agrees with itself across orders", kind: { type: "rate" }, bad: "low" },
];

export const winrateJudge: BuiltinScorer = {
  description: "win rate against a baseline: the judge names the better of the target's and the baseline's answers, asked in both orders (1 both, ½ split or identical, 0 neither)",
  metrics: METRICS,
  needs: "judge",
  prompt: "winrate",
  create: (template) => {
    const prompt = template ?? classifierPrompt("winrate");
    // Judges whose API refuses log-probabilities (some reasoning models) are asked without them from then on.
    let askLogprobs = true;
    const ask = async (context: ScorerContext, outputA: string, outputB: string): Promise<GenerateResult> => {
      const fields: Record<string, string> = { instruction: itemPrompt(context), output_a: outputA, output_b: outputB };
      // One pass over the template, so text inside an answer is never substituted again.
      const content = prompt.replace(/\{([a-z_]+)\}/g, (match, name: string) => (name in fields ? fields[name]! : match));
      const request: Omit<GenerateRequest, "timeoutMs"> = { messages: [{ role: "user", content }], options: { temperature: 0, max_tokens: 8 } };
      if (context.signal) request.signal = context.signal;
      if (!askLogprobs) return context.services.judge!(request);
      try {
        return await context.services.judge!({ ...request, topLogprobs: TOP_LOGPROBS });
      } catch (error) {
        if (!(error instanceof ProviderError && error.type === "client_error" && /logprob/i.test(error.message))) throw error;
        askLogprobs = false;
        return context.services.judge!(request);
      }
    };
    const verdict = async (context: ScorerContext, outputA: string, outputB: string, target: Position): Promise<OrderVerdict> => {
      const answer = await ask(context, outputA, outputB);
      const picked = parsePosition(answer.text);
      if (!picked) throw new JudgeInvalidError(`the win-rate judge did not answer A or B: "${answer.text.slice(0, 80)}"`, answer.text, 1);
      const mass = letterProbabilities(answer.logprobs);
      const total = mass ? mass.A + mass.B : 0;
      return { picked, targetProbability: mass && total > 0 ? mass[target] / total : null, raw: answer.text };
    };
    return async (context) => {
      const baseline = baselineOutput(context);
      const data: Record<string, unknown> = { target_length: characters(context.response), baseline_length: characters(baseline.text), baseline_source: baseline.source };
      // Identical answers (up to surrounding spaces) tie without asking: nothing to prefer, and no position to favour.
      if (context.response.trim() === baseline.text.trim()) {
        return { value: 0.5, label: "identical", raw: null, error: null, metrics: { soft_preference: 0.5, first_position: null, consistent: null }, data: { ...data, picks: null } };
      }
      const targetFirst = await verdict(context, context.response, baseline.text, "A");
      const baselineFirst = await verdict(context, baseline.text, context.response, "B");
      const combined = combineOrders(targetFirst, baselineFirst);
      return {
        value: combined.value,
        label: combined.label,
        raw: JSON.stringify([targetFirst.raw, baselineFirst.raw]),
        error: null,
        metrics: { soft_preference: combined.soft, first_position: combined.firstPosition, consistent: combined.consistent },
        // picks: the position named with the target shown first (A) and with the baseline shown first (target B).
        data: { ...data, picks: [targetFirst.picked, baselineFirst.picked], target_probabilities: [targetFirst.targetProbability, baselineFirst.targetProbability] },
      };
    };
  },
};
