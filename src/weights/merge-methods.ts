import { seededRandom } from "../common/seeded-random.js";

/**
 * The merge rules, applied one chunk of one tensor at a time. With base weights θ₀ and task vectors τ_j
 * scaled by their calibration weights λ_j:
 *   task-arithmetic  θ = θ₀ + Σ_j λ_j τ_j                                    (Ilharco et al., ICLR 2023)
 *   dare             θ = θ₀ + Σ_j λ_j m_j ⊙ τ_j / (1 − p), m_j ~ Bernoulli(1 − p) per element, seeded
 *                    (Yu et al., "Language Models are Super Mario", ICML 2024: drop and rescale)
 *   ties             trim: τ̂_j keeps the entries of τ_j whose magnitude is among the top k% of that tensor
 *                    (ties at the threshold kept), the rest 0; elect: γ = sgn(Σ_j λ_j τ̂_j), the sign with
 *                    the larger total magnitude; disjoint mean: θ = θ₀ + Σ_{j∈A} λ_j τ̂_j / |A| over
 *                    A = {j : sgn(τ̂_j) = γ} (Yadav et al., "TIES-Merging", NeurIPS 2023). With one λ for all
 *                    vectors this is the paper's θ₀ + λ · disjoint mean.
 * TIES trims per tensor (as mergekit does), where the paper's code ranks each task vector as a whole.
 */
export type MergeMethod = "task-arithmetic" | "ties" | "dare";

export const MERGE_METHODS: MergeMethod[] = ["task-arithmetic", "ties", "dare"];

/** θ = θ₀ + Σ λ_j τ_j over one chunk, into `out`. */
export function taskArithmetic(base: Float32Array, vectors: Float32Array[], lambdas: number[], out: Float64Array): void {
  const count = base.length;
  for (let i = 0; i < count; i++) out[i] = base[i]!;
  for (let j = 0; j < vectors.length; j++) {
    const vector = vectors[j]!;
    const lambda = lambdas[j]!;
    for (let i = 0; i < count; i++) out[i] = out[i]! + lambda * vector[i]!;
  }
}

/**
 * DARE over one chunk: each element of each vector is dropped with probability p (one draw per element, in
 * order, from that vector's stream, so the mask does not depend on the chunk size), the rest scaled by 1/(1−p).
 */
export function dare(base: Float32Array, vectors: Float32Array[], lambdas: number[], p: number, streams: Array<() => number>, out: Float64Array): void {
  const count = base.length;
  const scale = 1 / (1 - p);
  for (let i = 0; i < count; i++) out[i] = base[i]!;
  for (let j = 0; j < vectors.length; j++) {
    const vector = vectors[j]!;
    const weight = lambdas[j]! * scale;
    const next = streams[j]!;
    for (let i = 0; i < count; i++) {
      if (next() >= p) out[i] = out[i]! + weight * vector[i]!;
    }
  }
}

/** TIES over one chunk, given each vector's magnitude threshold for this tensor (topMagnitudeThreshold). */
export function ties(base: Float32Array, vectors: Float32Array[], lambdas: number[], thresholds: number[], out: Float64Array): void {
  const count = base.length;
  const n = vectors.length;
  const trimmed = new Float64Array(n);
  for (let i = 0; i < count; i++) {
    let total = 0;
    for (let j = 0; j < n; j++) {
      const value = vectors[j]![i]!;
      const kept = value !== 0 && Math.abs(value) >= thresholds[j]! ? lambdas[j]! * value : 0;
      trimmed[j] = kept;
      total += kept;
    }
    let sum = 0;
    let agreeing = 0;
    if (total !== 0) {
      for (let j = 0; j < n; j++) {
        const kept = trimmed[j]!;
        if (total > 0 ? kept > 0 : kept < 0) {
          sum += kept;
          agreeing++;
        }
      }
    }
    out[i] = base[i]! + (agreeing > 0 ? sum / agreeing : 0);
  }
}

/**
 * The magnitude of the `keep`-th largest |value| of a tensor, exactly, in two passes and 1 MB of counts: float32
 * magnitudes order like their bit patterns, so a histogram of the high 16 bits finds the bucket holding it, and
 * a histogram of the low 16 bits inside that bucket finds the value. `scan` visits the tensor's chunks in order.
 * Returns 0 when `keep` is at least the element count (keep everything), Infinity when it is 0.
 */
export function topMagnitudeThreshold(scan: (visit: (values: Float32Array) => void) => void, keep: number): number {
  if (keep <= 0) return Number.POSITIVE_INFINITY;
  const high = new Float64Array(65536);
  scan((values) => {
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < words.length; i++) high[(words[i]! & 0x7fffffff) >>> 16]!++;
  });
  let remaining = keep;
  let bucket = 65535;
  for (; bucket >= 0; bucket--) {
    if (high[bucket]! >= remaining) break;
    remaining -= high[bucket]!;
  }
  if (bucket < 0) return 0;
  const low = new Float64Array(65536);
  scan((values) => {
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < words.length; i++) {
      const magnitude = words[i]! & 0x7fffffff;
      if (magnitude >>> 16 === bucket) low[magnitude & 0xffff]!++;
    }
  });
  let rest = 65535;
  for (; rest > 0; rest--) {
    if (low[rest]! >= remaining) break;
    remaining -= low[rest]!;
  }
  const bits = new Uint32Array([(bucket << 16) | rest]);
  return new Float32Array(bits.buffer)[0]!;
}

/** A tensor's own DARE stream for one vector: FNV-1a of (seed, vector index, tensor name) seeds mulberry32. */
export function dareStream(seed: number, vector: number, tensor: string): () => number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}\u0000${vector}\u0000${tensor}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return seededRandom(hash);
}
