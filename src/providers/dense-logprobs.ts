import type { TokenLogprobs } from "./types.js";

/**
 * Turns one row of logits into log-probabilities in place: `row[i] -= logsumexp(row)`, with the maximum taken
 * out first so no exponential overflows, and the sum kept in double precision.
 */
export function logSoftmaxInPlace(row: Float32Array): void {
  let max = -Infinity;
  for (let index = 0; index < row.length; index++) if (row[index]! > max) max = row[index]!;
  if (max === -Infinity) return;
  let sum = 0;
  for (let index = 0; index < row.length; index++) sum += Math.exp(row[index]! - max);
  const norm = max + Math.log(sum);
  for (let index = 0; index < row.length; index++) row[index] = row[index]! - norm;
}

/** log Σ exp(row): 0 for a row of log-probabilities. */
export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let index = 0; index < row.length; index++) if (row[index]! > max) max = row[index]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let index = 0; index < row.length; index++) sum += Math.exp(row[index]! - max);
  return max + Math.log(sum);
}

/** Row `position` of a dense result: log P(· | tokens[0..position]), a view, not a copy. */
export function logprobRow(result: TokenLogprobs, position: number): Float32Array {
  if (position < 0 || position >= result.tokens.length) throw new RangeError(`position ${position} is outside 0..${result.tokens.length - 1}`);
  return result.logprobs.subarray(position * result.vocabSize, (position + 1) * result.vocabSize);
}

/** The `k` most likely token ids of a row, most likely first (ties: lower id first). */
export function topTokens(row: Float32Array, k: number): number[] {
  const count = Math.min(Math.max(0, Math.floor(Math.min(k, row.length))), row.length);
  if (count === 0) return [];
  if (count * 8 >= row.length) {
    const order = Array.from({ length: row.length }, (_, index) => index);
    order.sort((a, b) => row[b]! - row[a]! || a - b);
    return order.slice(0, count);
  }
  // Few wanted: keep a sorted list of the best `count` seen so far.
  const best: number[] = [];
  for (let index = 0; index < row.length; index++) {
    const value = row[index]!;
    if (best.length === count && value <= row[best[count - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && row[best[at - 1]!]! < value) at--;
    best.splice(at, 0, index);
    if (best.length > count) best.pop();
  }
  return best;
}
