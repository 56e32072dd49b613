// BLEU as sacrebleu (Post, 2018; mjpost/sacrebleu, v2.x) computes it, written from its description and
// checked against its values (test/unit/overlap-bleu.test.ts). lm-evaluation-harness's TruthfulQA scores
// each reference with `corpus_bleu([completion], [[reference]], smooth_method="exp", smooth_value=0.0,
// force=False, lowercase=False, tokenize="intl", use_effective_order=False)`: the `intl` tokenizer, not 13a.

/** Python's `str.split()` whitespace (JavaScript's `\s` lacks \x1c-\x1f and \x85, and adds \ufeff). */
const PYTHON_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PYTHON_WHITESPACE = new RegExp(`[${PYTHON_SPACE}]+`, "u");
const PYTHON_TRAILING_WHITESPACE = new RegExp(`[${PYTHON_SPACE}]+$`, "u");

/** Splits as Python's `str.split()` with no argument: on runs of whitespace, no empty parts. */
export function pythonSplit(text: string): string[] {
  return text.split(PYTHON_WHITESPACE).filter((part) => part !== "");
}

/**
 * sacrebleu's `intl` tokenizer (mteval-v14's international tokenisation): punctuation is split off unless a
 * digit is on its side (a thousands or decimal separator), every symbol is split off; whitespace collapsed.
 * The three substitutions run in order, each left to right over non-overlapping matches, as Python's re.sub.
 */
export function tokenizeIntl(line: string): string {
  let text = line.replace(/(\P{N})(\p{P})/gu, "$1 $2 ");
  text = text.replace(/(\p{P})(\P{N})/gu, " $1 $2");
  text = text.replace(/(\p{S})/gu, " $1 ");
  return pythonSplit(text).join(" ");
}

/**
 * sacrebleu's default `13a` tokenizer (mteval-v13a, WMT's): a few markup unescapes, then ASCII punctuation
 * and symbols split off, periods and commas split off unless next to a digit, a dash after a digit split off.
 */
export function tokenize13a(line: string): string {
  let text = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (text.includes("&")) text = text.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  text = ` ${text} `;
  text = text.replace(/([{-~[-` -&(-+:-@/])/g, " $1 ");
  text = text.replace(/([^0-9])([.,])/g, "$1 $2 ");
  text = text.replace(/([.,])([^0-9])/g, " $1 $2");
  text = text.replace(/([0-9])(-)/g, "$1 $2 ");
  return pythonSplit(text).join(" ");
}

export type BleuTokenizer = "intl" | "13a" | "none";

export interface BleuOptions {
  tokenize: BleuTokenizer;
  /** `exp`: mteval's smoothing (a zero count at order n counts as 1/2^k of a match, k the zero orders so far); `none`. */
  smooth: "exp" | "none";
  /** Average over the orders up to the last with any n-gram (sacrebleu's `use_effective_order`). */
  effectiveOrder: boolean;
  lowercase: boolean;
}

/** What lm-evaluation-harness's truthfulqa `bleu()` passes. */
export const TRUTHFULQA_BLEU: BleuOptions = { tokenize: "intl", smooth: "exp", effectiveOrder: false, lowercase: false };

const MAX_ORDER = 4;

export interface BleuScore {
  /** BLEU on 0–100. */
  score: number;
  /** Matched and total hypothesis n-grams of orders 1–4. */
  correct: number[];
  total: number[];
  brevityPenalty: number;
  hypothesisLength: number;
  referenceLength: number;
}

function preprocess(text: string, options: BleuOptions): string {
  const line = options.lowercase ? text.toLowerCase() : text;
  // Python's rstrip(): its own whitespace set (JavaScript's trimEnd differs in \x1c-\x1f, \x85 and \ufeff).
  const stripped = line.replace(PYTHON_TRAILING_WHITESPACE, "");
  if (options.tokenize === "intl") return tokenizeIntl(stripped);
  if (options.tokenize === "13a") return tokenize13a(stripped);
  return stripped;
}

/** Counts of every n-gram of orders 1–4, keyed by its tokens joined with a separator no token holds. */
function ngrams(tokens: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= MAX_ORDER; n++) {
    for (let start = 0; start + n <= tokens.length; start++) {
      const key = `${n}\u0000${tokens.slice(start, start + n).join("\u0000")}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The reference length closest to the hypothesis length; the shorter on a tie. */
function closestReferenceLength(hypothesisLength: number, lengths: number[]): number {
  let best = -1;
  let bestDiff = -1;
  for (const length of lengths) {
    const diff = Math.abs(hypothesisLength - length);
    if (bestDiff === -1 || diff < bestDiff || (diff === bestDiff && length < best)) {
      bestDiff = diff;
      best = length;
    }
  }
  return best;
}

/** sacrebleu's floored log: log(0) is a very large negative number, so the score becomes 0, not NaN. */
const flooredLog = (value: number) => (value === 0 ? -9999999999 : Math.log(value));

/**
 * Corpus BLEU over hypotheses, each with its references (`references[i]` are hypothesis i's). Counts are
 * summed over the corpus, clipped per n-gram by its highest count in any one reference, then turned into
 * the geometric mean of the four precisions times the brevity penalty.
 */
export function corpusBleu(hypotheses: string[], references: string[][], options: BleuOptions = TRUTHFULQA_BLEU): BleuScore {
  if (hypotheses.length !== references.length) throw new Error(`corpusBleu: ${hypotheses.length} hypotheses but ${references.length} reference sets`);
  const correct = new Array<number>(MAX_ORDER).fill(0);
  const total = new Array<number>(MAX_ORDER).fill(0);
  let hypothesisLength = 0;
  let referenceLength = 0;
  hypotheses.forEach((hypothesis, index) => {
    const maxReferenceCounts = new Map<string, number>();
    const lengths: number[] = [];
    for (const reference of references[index]!) {
      const tokens = pythonSplit(preprocess(reference, options));
      lengths.push(tokens.length);
      for (const [key, count] of ngrams(tokens)) maxReferenceCounts.set(key, Math.max(count, maxReferenceCounts.get(key) ?? 0));
    }
    const tokens = pythonSplit(preprocess(hypothesis, options));
    hypothesisLength += tokens.length;
    referenceLength += closestReferenceLength(tokens.length, lengths);
    for (const [key, count] of ngrams(tokens)) {
      const order = Number(key.slice(0, key.indexOf("\u0000"))) - 1;
      total[order]! += count;
      correct[order]! += Math.min(count, maxReferenceCounts.get(key) ?? 0);
    }
  });
  return computeBleu(correct, total, hypothesisLength, referenceLength, options);
}

/** The score from the counts, as sacrebleu's `compute_bleu` (smoothing `exp` or `none`). */
export function computeBleu(correct: number[], total: number[], hypothesisLength: number, referenceLength: number, options: BleuOptions): BleuScore {
  let brevityPenalty = 1;
  if (hypothesisLength < referenceLength) brevityPenalty = hypothesisLength > 0 ? Math.exp(1 - referenceLength / hypothesisLength) : 0;
  const result = { correct, total, brevityPenalty, hypothesisLength, referenceLength };
  if (!correct.some((count) => count > 0)) return { score: 0, ...result };
  const precisions = new Array<number>(MAX_ORDER).fill(0);
  let smooth = 1;
  let order = MAX_ORDER;
  for (let n = 1; n <= MAX_ORDER; n++) {
    // No n-grams of this order (a hypothesis shorter than n tokens): this and higher precisions stay 0.
    if (total[n - 1] === 0) break;
    if (options.effectiveOrder) order = n;
    if (correct[n - 1] === 0) {
      if (options.smooth === "exp") {
        smooth *= 2;
        precisions[n - 1] = 100 / (smooth * total[n - 1]!);
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  let sum = 0;
  for (const precision of precisions.slice(0, order)) sum += flooredLog(precision);
  return { score: brevityPenalty * Math.exp(sum / order), ...result };
}

/** One hypothesis against one reference, as lm-evaluation-harness's truthfulqa `bleu([[reference]], [hypothesis])`. */
export function truthfulqaBleu(reference: string, hypothesis: string): number {
  return corpusBleu([hypothesis], [[reference]], TRUTHFULQA_BLEU).score;
}
