// The router of a mixture of calibrated experts, as pure functions over vectors.
//
//   cos_i  = (e · c_i) / (‖e‖ ‖c_i‖)                  e: the prompt's embedding, c_i: expert i's centroid
//   s_i    = exp(cos_i / T) / Σ_j exp(cos_j / T)         softmax with temperature T > 0
//   w_i    = λ_i s_i / Σ_j λ_j s_j                       calibration weights λ_i ≥ 0, renormalised to sum 1
//
// so w_i ∝ λ_i exp(cos_i / T): the λ rescale the softmax and the renormalisation keeps the weights a
// distribution (AlignX's stage 2 scales each expert by λ and routes with a softmax; its code routes over one
// element, where every weight is 1 — here each expert has its own similarity). A centroid is the mean of the
// unit-length embeddings of the prompts labelled with that expert, so a long text's larger norm does not
// pull the centroid its way; cosine similarity ignores the centroid's own length.

/** Cosine similarity of two vectors of one length; 0 when either is all zeros. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine of vectors of ${a.length} and ${b.length} dimensions`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index++) {
    dot += a[index]! * b[index]!;
    normA += a[index]! * a[index]!;
    normB += b[index]! * b[index]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** softmax(x / temperature), with the maximum taken out first so no exponential overflows. */
export function softmax(values: readonly number[], temperature: number): number[] {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp((value - max) / temperature));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

/** What routing a prompt found: the similarities, the softmax and the calibrated weights, per expert in order. */
export interface Routing {
  similarities: number[];
  softmax: number[];
  weights: number[];
}

/** Routing weights of an embedding: w_i = λ_i softmax(cos / T)_i / Σ_j λ_j softmax(cos / T)_j. */
export function route(embedding: ArrayLike<number>, centroids: ReadonlyArray<ArrayLike<number>>, lambdas: readonly number[], temperature: number): Routing {
  if (centroids.length !== lambdas.length) throw new RangeError(`${centroids.length} centroids but ${lambdas.length} calibration weights`);
  const similarities = centroids.map((centroid) => cosine(embedding, centroid));
  const soft = softmax(similarities, temperature);
  const scaled = soft.map((value, index) => value * lambdas[index]!);
  const total = scaled.reduce((sum, value) => sum + value, 0);
  // Every λ is ≥ 0 and at least one > 0 (checked when the router is read); softmax values are > 0 unless
  // they underflow at a tiny temperature, where the weight goes to the most similar expert with a λ > 0.
  const weights = total > 0 ? scaled.map((value) => value / total) : oneHot(bestWithWeight(similarities, lambdas), lambdas.length);
  return { similarities, softmax: soft, weights };
}

function bestWithWeight(similarities: readonly number[], lambdas: readonly number[]): number {
  let best = -1;
  similarities.forEach((value, index) => {
    if (lambdas[index]! > 0 && (best < 0 || value > similarities[best]!)) best = index;
  });
  return best;
}

function oneHot(index: number, length: number): number[] {
  return Array.from({ length }, (_, position) => (position === index ? 1 : 0));
}

/** The expert with the largest weight (the first on a tie). */
export function topExpert(weights: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < weights.length; index++) if (weights[index]! > weights[best]!) best = index;
  return best;
}

/** Per label, the mean of its examples' unit-length embeddings (in the order labels are given). */
export function centroids(examples: ReadonlyArray<{ label: string; embedding: ArrayLike<number> }>, labels: readonly string[]): number[][] {
  const dimensions = examples[0]?.embedding.length ?? 0;
  const sums = new Map(labels.map((label) => [label, { sum: new Array<number>(dimensions).fill(0), count: 0 }]));
  for (const { label, embedding } of examples) {
    const entry = sums.get(label);
    if (!entry) continue;
    if (embedding.length !== dimensions) throw new RangeError(`embeddings of ${dimensions} and ${embedding.length} dimensions`);
    let norm = 0;
    for (let index = 0; index < dimensions; index++) norm += embedding[index]! * embedding[index]!;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    for (let index = 0; index < dimensions; index++) entry.sum[index]! += embedding[index]! / norm;
    entry.count++;
  }
  return labels.map((label) => {
    const { sum, count } = sums.get(label)!;
    if (count === 0) throw new RangeError(`no example labelled "${label}" has a non-zero embedding`);
    return sum.map((value) => value / count);
  });
}
