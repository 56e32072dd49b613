import type { RunStore } from "./store/types.js";

/** Keys claimed from the store per query, and how long a claim holds before another session may take it. */
const CLAIM_BATCH = 500;
const CLAIM_LEASE_MS = 10 * 60_000;

/**
 * The items of a keyed set still to do, claimed from the run store a batch of keys at a time, with each claim's
 * attempt number: what a session built over a fixed item list (judge-eval, the dataset stages) processes. The
 * store skips keys already done, so a resumed run yields only what is left.
 */
export async function* claimItems<T>(store: RunStore, byKey: ReadonlyMap<string, T>): AsyncGenerator<[string, T, number]> {
  const keys = [...byKey.keys()];
  for (let start = 0; start < keys.length; start += CLAIM_BATCH) {
    for (const claim of await store.claim(keys.slice(start, start + CLAIM_BATCH), CLAIM_LEASE_MS)) yield [claim.key, byKey.get(claim.key)!, claim.attempt];
  }
}
