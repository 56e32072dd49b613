import { UserError } from "../../errors.js";
import type { Sample } from "../../datasets/sample.js";
import type { LanguageModel, ScoringOptions, TokenDistribution } from "../../providers/types.js";
import type { RowScore } from "../../results/record.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import { denseDrift, largest, statisticsDrift, topKDrift, type TextDrift } from "./drift-kl.js";
import type { PlanContext, PlanResult } from "./types.js";

// One text of a drift run's text parts (in_domain, ood): the fine-tuned model (role target) and its base
// (role base) read the same tokens, and the row's `fidelity` score holds the text's Fidelity Loss — the mean
// per-token KL(P_target ‖ P_base) — with the other per-text numbers the drift_fidelity_dsi suite metric
// aggregates (drift-kl.ts has the formulas). Exact from dense log-probabilities when both models have them
// (llamacpp:, computed next to the logits by the provider's native addon where it can be built), else from top-k log-probabilities (an OpenAI-compatible completions server), labelled
// approximate. Plan options: max_tokens_per_text (default 512), top_k (default 20, the approximate path).

export const DEFAULT_MAX_TOKENS_PER_TEXT = 512;
export const DEFAULT_TOP_K = 20;
/** How many of a text's positions with the largest KL the row keeps, and the context shown before each. */
const TOP_POSITIONS = 5;
const CONTEXT_TOKENS = 12;

export const FIDELITY_DECLARATION: ScorerDeclaration = {
  name: "fidelity",
  description:
    "Fidelity Loss of one text: mean per-token KL(P_target ‖ P_base) of the next-token distributions, in nats, with greedy-token change, total variation, each model's greedy accuracy and log-likelihood",
  metrics: [
    { name: "kl_mean", label: "Fidelity Loss: mean per-token KL(P_target ‖ P_base)", kind: { type: "unbounded", unit: "nats" }, bad: "high" },
    { name: "kl_sum", label: "KL summed over the text's tokens", kind: { type: "unbounded", unit: "nats" }, bad: "high" },
    { name: "tokens", label: "tokens scored", kind: { type: "unbounded", unit: "tokens" }, bad: "none" },
    { name: "changed_share", label: "share of positions whose greedy token changed", kind: { type: "bounded", range: [0, 1] }, bad: "high" },
    { name: "tv_mean", label: "mean total-variation distance", kind: { type: "bounded", range: [0, 1] }, bad: "high" },
    { name: "acc_target", label: "greedy next-token accuracy, fine-tuned", kind: { type: "bounded", range: [0, 1] }, bad: "low" },
    { name: "acc_base", label: "greedy next-token accuracy, base", kind: { type: "bounded", range: [0, 1] }, bad: "none" },
    { name: "ll_target", label: "mean per-token log-likelihood, fine-tuned", kind: { type: "unbounded", unit: "nats" }, bad: "low" },
    { name: "ll_base", label: "mean per-token log-likelihood, base", kind: { type: "unbounded", unit: "nats" }, bad: "none" },
  ],
};

interface DriftOptions {
  maxTokens: number;
  topK: number;
}

function readOptions(options: Record<string, unknown>): DriftOptions {
  const maxTokens = options.max_tokens_per_text ?? DEFAULT_MAX_TOKENS_PER_TEXT;
  const topK = options.top_k ?? DEFAULT_TOP_K;
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 2) throw new UserError("plan_options.max_tokens_per_text must be a whole number of at least 2");
  if (typeof topK !== "number" || !Number.isInteger(topK) || topK < 1) throw new UserError("plan_options.top_k must be a whole number of at least 1");
  return { maxTokens, topK };
}

/** The row's text: the record format puts it in the row's single user message. */
function textOf(sample: Sample): string {
  const turns = sample.conversation;
  if (turns.length !== 1 || turns[0]!.role !== "user") throw new UserError(`item ${sample.id}: a drift text row holds one text (record_format drift_text), not a conversation`);
  return turns[0]!.content;
}

/**
 * Refuses two models that do not share a vocabulary, naming both: their distributions cannot be compared
 * token by token. Both need `tokenize` (local models); the CLI may call it before the run starts.
 */
export async function checkDriftVocabularies(target: LanguageModel, base: LanguageModel): Promise<void> {
  const [a, b] = await Promise.all([target.tokenize!(""), base.tokenize!("")]);
  if (a.fingerprint !== b.fingerprint) {
    throw new UserError(
      `the fine-tuned model ${target.address} and the base model ${base.address} do not share a vocabulary (tokenizer fingerprints ${a.fingerprint.slice(0, 12)}… and ${b.fingerprint.slice(0, 12)}…): Fidelity Loss compares their next-token distributions token by token, so the fine-tune must keep its base's tokenizer`,
    );
  }
}

/** The longest prefix of `text` that is at most `max` tokens: the whole text when it fits (binary search on characters). */
async function truncated(model: LanguageModel, text: string, max: number): Promise<{ text: string; tokens: number; cut: boolean }> {
  const whole = (await model.tokenize!(text)).ids.length;
  if (whole <= max) return { text, tokens: whole, cut: false };
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((await model.tokenize!(text.slice(0, middle))).ids.length <= max) low = middle;
    else high = middle - 1;
  }
  return { text: text.slice(0, low), tokens: whole, cut: true };
}

function dense(model: LanguageModel): boolean {
  return typeof model.tokenLogprobs === "function" && typeof model.tokenize === "function";
}

/** The row score of a text's drift. */
function scoreOf(drift: TextDrift, data: Record<string, unknown>): RowScore {
  const n = drift.tokens;
  if (n === 0) return { value: null, label: null, raw: null, error: "the text has no scored token (one token and no beginning-of-sequence token)", data };
  return {
    value: drift.klSum / n,
    label: null,
    raw: null,
    error: null,
    metrics: {
      kl_sum: drift.klSum,
      tokens: n,
      changed_share: drift.changed / n,
      tv_mean: drift.tvSum / n,
      acc_target: drift.hitsTarget / n,
      acc_base: drift.hitsBase / n,
      ll_target: drift.llTarget / n,
      ll_base: drift.llBase / n,
    },
    data,
  };
}

/**
 * Exact drift of a text from both models' full distributions: from the provider's statistics computed next to
 * the logits when it has them for this pair (llamacpp: the native addon), else from the two models' dense
 * log-probabilities (tokenLogprobs). Both give the same numbers; the first without any per-token object.
 */
async function exactDrift(target: LanguageModel, base: LanguageModel, text: string, scoring: ScoringOptions): Promise<{ drift: TextDrift; tokens: Uint32Array }> {
  const native = await target.fidelityStatistics?.(base, [text], scoring);
  if (native) return { drift: statisticsDrift(native[0]!), tokens: native[0]!.tokens };
  // Both models at once: each evaluates on a sequence of its own. Memory: 2 × tokens × vocabulary floats.
  const [[t], [b]] = await Promise.all([target.tokenLogprobs!([text], scoring), base.tokenLogprobs!([text], scoring)]);
  try {
    return { drift: denseDrift(t!, b!), tokens: t!.tokens };
  } catch {
    throw new UserError(`${target.address} and ${base.address} read the same text as different tokens: they do not share a tokenizer`);
  }
}

async function denseRow(target: LanguageModel, base: LanguageModel, text: string, options: DriftOptions, signal: AbortSignal | undefined): Promise<RowScore> {
  await checkDriftVocabularies(target, base);
  const kept = await truncated(target, text, options.maxTokens);
  const { drift, tokens } = await exactDrift(target, base, kept.text, signal ? { signal } : {});
  // Row i predicts tokens[i + 1]: the position's token and the tokens before it, as text.
  const top = [];
  for (const position of largest(drift.kl, TOP_POSITIONS)) {
    const token = tokens[position + 1]!;
    const before = Array.from(tokens.subarray(Math.max(0, position + 1 - CONTEXT_TOKENS), position + 1));
    top.push({
      position,
      token: target.detokenize ? await target.detokenize([token]) : String(token),
      kl: drift.kl[position]!,
      context: target.detokenize ? await target.detokenize(before) : before.join(" "),
    });
  }
  const data: Record<string, unknown> = { approximate: false, top_kl: top };
  if (kept.cut)
    data.truncated = {
      tokens: kept.tokens,
      kept: options.maxTokens,
      note: `the text has ${kept.tokens} tokens; its first ${options.maxTokens} at most were scored (plan_options.max_tokens_per_text)`,
    };
  return scoreOf(drift, data);
}

async function topKRow(target: LanguageModel, base: LanguageModel, text: string, options: DriftOptions, signal: AbortSignal | undefined): Promise<RowScore> {
  const request = { topK: options.topK, ...(signal ? { signal } : {}) };
  const [all, allBase] = await Promise.all([target.tokenDistributions!(text, request), base.tokenDistributions!(text, request)]);
  // A causal model's first positions do not depend on what follows, so a cut is the first positions.
  const t: TokenDistribution[] = all.slice(0, options.maxTokens);
  const b = allBase.slice(0, options.maxTokens);
  let drift;
  try {
    drift = topKDrift(t, b);
  } catch (error) {
    throw new UserError(`${target.address} and ${base.address}: ${(error as Error).message}; they do not share a tokenizer`);
  }
  const top = largest(drift.kl, TOP_POSITIONS).map((position) => ({
    position,
    token: t[position]!.token,
    kl: drift.kl[position]!,
    context: t
      .slice(Math.max(0, position - CONTEXT_TOKENS), position)
      .map((entry) => entry.token)
      .join(""),
  }));
  const data: Record<string, unknown> = {
    approximate: true,
    top_k: options.topK,
    // The estimate is a lower bound of the exact KL; `bound` is the mean share of the fine-tuned model's
    // probability it could not see token by token (its tail bucket): 0 means the estimate is exact.
    bound: drift.tokens > 0 ? drift.tailMass / drift.tokens : 0,
    top_kl: top,
  };
  if (all.length > options.maxTokens)
    data.truncated = { tokens: all.length, kept: options.maxTokens, note: `the text has ${all.length} scored positions; the first ${options.maxTokens} were kept (plan_options.max_tokens_per_text)` };
  return scoreOf(drift, data);
}

/** A drift text row: both models read the text; the row's `fidelity` score holds its drift. */
export async function runTextDrift(context: PlanContext): Promise<PlanResult> {
  const options = readOptions(context.options);
  const text = textOf(context.sample);
  const target = context.roles.target?.scoring;
  const base = context.roles.base?.scoring;
  if (!target) throw new UserError("a drift run needs the fine-tuned model (the model under test)");
  if (!base) throw new UserError("a drift run needs the base model: give it the role base (--model-role base=PROVIDER:MODEL)");
  let fidelity: RowScore;
  if (dense(target) && dense(base)) fidelity = await denseRow(target, base, text, options, context.signal);
  else if (target.tokenDistributions && base.tokenDistributions) fidelity = await topKRow(target, base, text, options, context.signal);
  else {
    const lacking = [target, base].filter((model) => !model.tokenDistributions && !dense(model)).map((model) => model.address);
    throw new UserError(
      `Fidelity Loss needs next-token log-probabilities of the text from both models, which ${lacking.join(" and ")} cannot give: use llamacpp:PATH.gguf, or an OpenAI-compatible completions server with echo + logprobs (vLLM)`,
    );
  }
  return { messages: context.sample.conversation, response: null, finishReason: null, scores: { fidelity } };
}
