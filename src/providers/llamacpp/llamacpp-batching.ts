import type { LlamaBatchingStrategy } from "./library.js";

/**
 * Which queued evaluations share one llama.cpp batch. node-llama-cpp 3.21.1's default ("maximumParallelism")
 * fills a batch with slices of every waiting sequence; with this build, a batch that mixes several sequences'
 * multi-token slices (prompts, scored texts) sometimes returns wrong logits for some of them — hundreds of
 * nats off on TruthfulQA items at 8 parallel sequences, a different set each run, and different greedy
 * generations too (see the llamacpp concurrency tests). A single sequence split over several batches is
 * right, and so is a batch of single tokens from several sequences.
 *
 * So a batch holds either one sequence's tokens (the first waiting evaluation of more than one token, up to
 * the batch size) or one token of each sequence that waits with exactly one (the decoding steps of parallel
 * generations, where batching pays most). A multi-token evaluation then runs exactly as it does alone, so
 * log-likelihoods do not depend on how many sequences run at once; generation keeps its batched steps.
 */
export const unmixedBatches: LlamaBatchingStrategy = ({ items, size }) => {
  const long = items.find((item) => item.tokens.length > 1);
  if (long) return [{ item: long, processAmount: Math.min(long.tokens.length, size) }];
  return items.slice(0, size).map((item) => ({ item, processAmount: 1 }));
};
