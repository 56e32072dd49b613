// ROUGE-1, ROUGE-2 and ROUGE-Lsum F-measures as Google's `rouge_score` package (0.1.2) computes them with
// its defaults, the way lm-evaluation-harness's TruthfulQA calls it: `RougeScorer(["rouge1", "rouge2",
// "rougeLsum"])` — no stemming, the default tokenizer, sentences for ROUGE-Lsum split on newlines (after
// lm-evaluation-harness turns " . " into ".\n") — times 100. Written from the package's description and
// checked against its values (test/unit/overlap-rouge.test.ts).

/**
 * rouge_score's default tokenizer: lower-case, every run of characters other than a–z and 0–9 becomes a
 * space, split on whitespace, keep only non-empty [a-z0-9]+ tokens (so accented letters split words).
 */
export function rougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .split(" ")
    .filter((token) => /^[a-z0-9]+$/.test(token));
}

/** F-measure of a precision and a recall; 0 when both are 0. */
function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let start = 0; start + n <= tokens.length; start++) {
    const key = tokens.slice(start, start + n).join(" ");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N F-measure (0–1): clipped n-gram overlap over the prediction's and the target's n-gram counts. */
export function rougeN(targetTokens: string[], predictionTokens: string[], n: number): number {
  const target = ngramCounts(targetTokens, n);
  const prediction = ngramCounts(predictionTokens, n);
  let overlap = 0;
  for (const [key, count] of target) overlap += Math.min(count, prediction.get(key) ?? 0);
  let targetCount = 0;
  for (const count of target.values()) targetCount += count;
  let predictionCount = 0;
  for (const count of prediction.values()) predictionCount += count;
  return fmeasure(overlap / Math.max(predictionCount, 1), overlap / Math.max(targetCount, 1));
}

/** The longest-common-subsequence table of two token lists ((|a|+1) × (|b|+1)). */
function lcsTable(reference: string[], candidate: string[]): number[][] {
  const table = Array.from({ length: reference.length + 1 }, () => new Array<number>(candidate.length + 1).fill(0));
  for (let i = 1; i <= reference.length; i++) {
    for (let j = 1; j <= candidate.length; j++) {
      table[i]![j] = reference[i - 1] === candidate[j - 1] ? table[i - 1]![j - 1]! + 1 : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
    }
  }
  return table;
}

/**
 * The reference positions of one longest common subsequence, read back from the table's corner. Which one
 * matters for the union below, so ties go as rouge_score's backtrack does: move along the candidate only when
 * that keeps a strictly longer subsequence, else along the reference.
 */
function lcsPositions(reference: string[], candidate: string[]): number[] {
  const table = lcsTable(reference, candidate);
  const positions: number[] = [];
  let i = reference.length;
  let j = candidate.length;
  while (i > 0 && j > 0) {
    if (reference[i - 1] === candidate[j - 1]) {
      positions.unshift(i - 1);
      i--;
      j--;
    } else if (table[i]![j - 1]! > table[i - 1]![j]!) {
      j--;
    } else {
      i--;
    }
  }
  return positions;
}

/** Sentences as rouge_score's rougeLsum splits them: on newlines, empty ones dropped. */
function sentences(text: string): string[] {
  return text.split("\n").filter((sentence) => sentence.length > 0);
}

/**
 * ROUGE-Lsum F-measure (0–1), summary-level LCS (Lin, 2004, section 3.2): for each target sentence, the
 * union of its LCS positions with every prediction sentence; a union token is a hit while both texts still
 * have an unused occurrence of it (ROUGE 1.5.5's guard against counting a token twice).
 */
export function rougeLsum(target: string, prediction: string): number {
  const targetSentences = sentences(target).map(rougeTokens);
  const predictionSentences = sentences(prediction).map(rougeTokens);
  if (targetSentences.length === 0 || predictionSentences.length === 0) return 0;
  const targetLength = targetSentences.reduce((sum, tokens) => sum + tokens.length, 0);
  const predictionLength = predictionSentences.reduce((sum, tokens) => sum + tokens.length, 0);
  if (targetLength === 0 || predictionLength === 0) return 0;
  const unusedTarget = new Map<string, number>();
  const unusedPrediction = new Map<string, number>();
  for (const tokens of targetSentences) for (const token of tokens) unusedTarget.set(token, (unusedTarget.get(token) ?? 0) + 1);
  for (const tokens of predictionSentences) for (const token of tokens) unusedPrediction.set(token, (unusedPrediction.get(token) ?? 0) + 1);
  let hits = 0;
  for (const reference of targetSentences) {
    const union = new Set<number>();
    for (const candidate of predictionSentences) for (const position of lcsPositions(reference, candidate)) union.add(position);
    for (const position of [...union].sort((a, b) => a - b)) {
      const token = reference[position]!;
      if ((unusedPrediction.get(token) ?? 0) > 0 && (unusedTarget.get(token) ?? 0) > 0) {
        hits++;
        unusedPrediction.set(token, unusedPrediction.get(token)! - 1);
        unusedTarget.set(token, unusedTarget.get(token)! - 1);
      }
    }
  }
  return fmeasure(hits / predictionLength, hits / targetLength);
}

export interface TruthfulqaRouge {
  rouge1: number;
  rouge2: number;
  rougeLsum: number;
}

/** lm-evaluation-harness's sentence mark for rougeLsum: " . " becomes ".\n" (a period already spaced off). */
const prepareSummary = (text: string) => text.replaceAll(" . ", ".\n");

/** One prediction against one reference, as lm-evaluation-harness's truthfulqa `rouge([reference], [prediction])`: F-measures × 100. */
export function truthfulqaRouge(reference: string, prediction: string): TruthfulqaRouge {
  const target = prepareSummary(reference);
  const predicted = prepareSummary(prediction);
  const targetTokens = rougeTokens(target);
  const predictionTokens = rougeTokens(predicted);
  return {
    rouge1: rougeN(targetTokens, predictionTokens, 1) * 100,
    rouge2: rougeN(targetTokens, predictionTokens, 2) * 100,
    rougeLsum: rougeLsum(target, predicted) * 100,
  };
}
