import type { FidelityStatistics, TokenDistribution, TokenLogprobs } from "../../providers/types.js";

// The per-text numbers of Fidelity Loss, from two models' next-token distributions over the same tokens.
// At each scored position (the distribution that predicts the text's next token):
//   KL(P_t ‖ P_b) = Σ_v p_t(v) (log p_t(v) − log p_b(v))        (nats; 0·log 0 = 0)
//   TV(P_t, P_b)  = ½ Σ_v |p_t(v) − p_b(v)|
//   changed       = argmax p_t ≠ argmax p_b                    (ties: the lowest id, in both)
//   hit_m         = argmax p_m = the actual next token         (greedy next-token accuracy)
//   ll_m          = log p_m(actual next token)
// The dense path loops over the two rows' Float32Array values in place: no object per token, sums in double.

/** One text's sums over its scored positions, and the KL of each position (to find the largest). */
export interface TextDrift {
  tokens: number;
  klSum: number;
  tvSum: number;
  changed: number;
  hitsTarget: number;
  hitsBase: number;
  llTarget: number;
  llBase: number;
  /** KL at each scored position, in order. */
  kl: Float64Array;
}

/**
 * Drift over every scored position of two dense results of the same tokens (row i predicts tokens[i + 1];
 * the last row predicts past the text and is not scored). Throws when the token sequences differ.
 */
export function denseDrift(target: TokenLogprobs, base: TokenLogprobs): TextDrift {
  const n = target.tokens.length;
  if (base.tokens.length !== n || base.vocabSize !== target.vocabSize || target.tokens.some((token, index) => token !== base.tokens[index])) {
    throw new Error("the two models read the text as different tokens");
  }
  const vocab = target.vocabSize;
  const positions = Math.max(0, n - 1);
  const drift: TextDrift = { tokens: positions, klSum: 0, tvSum: 0, changed: 0, hitsTarget: 0, hitsBase: 0, llTarget: 0, llBase: 0, kl: new Float64Array(positions) };
  const t = target.logprobs;
  const b = base.logprobs;
  for (let position = 0; position < positions; position++) {
    const offset = position * vocab;
    let kl = 0;
    let tv = 0;
    let bestT = 0;
    let bestB = 0;
    let maxT = -Infinity;
    let maxB = -Infinity;
    for (let v = 0; v < vocab; v++) {
      const lt = t[offset + v]!;
      const lb = b[offset + v]!;
      if (lt > maxT) {
        maxT = lt;
        bestT = v;
      }
      if (lb > maxB) {
        maxB = lb;
        bestB = v;
      }
      if (lt === lb) continue; // equal terms add nothing to either sum (also when both are −∞)
      const pt = Math.exp(lt);
      const pb = Math.exp(lb);
      if (pt > 0) kl += pt * (lt - lb);
      tv += Math.abs(pt - pb);
    }
    const next = target.tokens[position + 1]!;
    drift.kl[position] = kl;
    drift.klSum += kl;
    drift.tvSum += tv / 2;
    if (bestT !== bestB) drift.changed++;
    if (bestT === next) drift.hitsTarget++;
    if (bestB === next) drift.hitsBase++;
    drift.llTarget += t[offset + next]!;
    drift.llBase += b[offset + next]!;
  }
  return drift;
}

/**
 * Drift from per-position statistics a provider computed next to the logits (FidelityStatistics: the same KL,
 * TV, greedy tokens and log-likelihoods as denseDrift, per position): here only summed and counted.
 */
export function statisticsDrift(statistics: FidelityStatistics): TextDrift {
  const positions = statistics.kl.length;
  const drift: TextDrift = { tokens: positions, klSum: 0, tvSum: 0, changed: 0, hitsTarget: 0, hitsBase: 0, llTarget: 0, llBase: 0, kl: Float64Array.from(statistics.kl) };
  for (let position = 0; position < positions; position++) {
    const next = statistics.tokens[position + 1]!;
    const greedyT = statistics.greedyTarget[position]!;
    const greedyB = statistics.greedyBase[position]!;
    drift.klSum += statistics.kl[position]!;
    drift.tvSum += statistics.tv[position]!;
    if (greedyT !== greedyB) drift.changed++;
    if (greedyT === next) drift.hitsTarget++;
    if (greedyB === next) drift.hitsBase++;
    drift.llTarget += statistics.llTarget[position]!;
    drift.llBase += statistics.llBase[position]!;
  }
  return drift;
}

/** Top-k drift also reports the target's probability mass the estimate lumped into its tail bucket. */
export interface TopKDrift extends TextDrift {
  /** Σ over positions of the target's mass outside the tokens both models list. */
  tailMass: number;
}

/** A position's listed tokens by text, probabilities summed where two ids print alike, the actual token included. */
function listed(position: TokenDistribution): Map<string, number> {
  const probabilities = new Map<string, number>();
  for (const { token, logprob } of position.top) probabilities.set(token, (probabilities.get(token) ?? 0) + Math.exp(logprob));
  if (!probabilities.has(position.token)) probabilities.set(position.token, Math.exp(position.logprob));
  return probabilities;
}

/**
 * Drift from top-k distributions (an API's prompt log-probabilities), positions aligned one to one and
 * tokens matched by text. The tokens both models list (and the actual next token, whose probability both
 * report) keep their own probabilities; everything else is one tail bucket per model (1 − the listed mass).
 * KL and TV of this coarser distribution are lower bounds of the exact ones (lumping outcomes never raises an
 * f-divergence: the data-processing inequality). Throws when the positions' tokens differ.
 */
export function topKDrift(target: readonly TokenDistribution[], base: readonly TokenDistribution[]): TopKDrift {
  if (target.length !== base.length || target.some((position, index) => position.token !== base[index]!.token)) {
    const at = target.findIndex((position, index) => position.token !== base[index]?.token);
    const where = at < 0 ? `${target.length} against ${base.length} positions` : `position ${at}: ${JSON.stringify(target[at]!.token)} against ${JSON.stringify(base[at]?.token ?? null)}`;
    throw new Error(`the two models read the text as different tokens (${where})`);
  }
  const positions = target.length;
  const drift: TopKDrift = { tokens: positions, klSum: 0, tvSum: 0, changed: 0, hitsTarget: 0, hitsBase: 0, llTarget: 0, llBase: 0, kl: new Float64Array(positions), tailMass: 0 };
  for (let position = 0; position < positions; position++) {
    const t = target[position]!;
    const b = base[position]!;
    const pt = listed(t);
    const pb = listed(b);
    let kl = 0;
    let tv = 0;
    let sharedT = 0;
    let sharedB = 0;
    for (const [token, p] of pt) {
      const q = pb.get(token);
      if (q === undefined) continue;
      sharedT += p;
      sharedB += q;
      if (p > 0) kl += p * (Math.log(p) - Math.log(q));
      tv += Math.abs(p - q);
    }
    // The tail buckets; rounding can leave a listed mass a hair above 1.
    const restT = Math.max(0, 1 - sharedT);
    const restB = Math.max(0, 1 - sharedB);
    if (restT > 1e-12) kl += restT * (Math.log(restT) - Math.log(Math.max(restB, 1e-300)));
    tv += Math.abs(restT - restB);
    drift.kl[position] = kl;
    drift.klSum += kl;
    drift.tvSum += tv / 2;
    drift.tailMass += restT;
    const greedyT = t.top[0]?.token;
    const greedyB = b.top[0]?.token;
    if (greedyT !== greedyB) drift.changed++;
    if (greedyT === t.token) drift.hitsTarget++;
    if (greedyB === b.token) drift.hitsBase++;
    drift.llTarget += t.logprob;
    drift.llBase += b.logprob;
  }
  return drift;
}

/** The indices of the `k` largest values, largest first (ties: the earlier position first). */
export function largest(values: Float64Array, k: number): number[] {
  const order = Array.from({ length: values.length }, (_, index) => index);
  order.sort((a, b) => values[b]! - values[a]! || a - b);
  return order.slice(0, k);
}
