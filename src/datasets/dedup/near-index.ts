import { seededRandom } from "../../common/seeded-random.js";
import { hamming } from "./simhash.js";

/**
 * Finds the pairs of 64-bit fingerprints within Hamming distance τ without comparing all pairs, by permuted
 * tables (Manku, Jain & Das Sarma 2007, "Detecting near-duplicates for web crawling", §3).
 *
 * Each table set is a seeded random permutation of the 64 bit positions, cut into 4 blocks of 16 bits; two
 * fingerprints become candidates when one block matches exactly, and every candidate is checked with its true
 * distance, so no pair beyond τ is ever reported. Pigeonhole: a pair at distance ≤ 3 leaves some block clean
 * in every permutation, so it is always found. A pair at distance d > 3 is found by one permutation with the
 * probability p(d) that the d differing positions miss some block (inclusion–exclusion over the blocks,
 * exact because the permutation is uniform), and by P independent permutations with 1 − (1 − p(d))^P; P is
 * the smallest count that reaches the target recall (default 99%) at d = τ.
 *
 * Why not exact pigeonhole at τ = 10 (11 blocks, any block matching): blocks of ~6 bits put ~N/64 unrelated
 * fingerprints in each bucket, about 10^10 comparisons for 400,000 prompts; every exact split with larger
 * keys needs thousands of tables (C(15,5) = 3,003 at 21-bit keys). 16-bit keys leave about N²/2/65,536
 * chance candidates per table (1.2 million at 400,000), cheap to check.
 */

/** Bits per block; four blocks cover the 64 bits. */
export const BLOCK_BITS = 16;
const BLOCKS = 4;
const MAX_PERMUTATIONS = 256;

/** C(n − s, d) / C(n, d): the chance that d random positions out of n all avoid a given set of s positions. */
function avoid(n: number, s: number, d: number): number {
  if (d > n - s) return 0;
  let p = 1;
  for (let i = 0; i < d; i++) p *= (n - s - i) / (n - i);
  return p;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/** The chance that one permutation makes a pair at distance d a candidate: some 16-bit block holds none of its d differing bits. */
export function catchProbability(distance: number): number {
  if (distance <= BLOCKS - 1) return 1;
  let p = 0;
  for (let j = 1; j <= BLOCKS; j++) p += (j % 2 === 1 ? 1 : -1) * binomial(BLOCKS, j) * avoid(64, j * BLOCK_BITS, distance);
  return Math.min(1, Math.max(0, p));
}

export interface IndexPlan {
  tau: number;
  permutations: number;
  tables: number;
  /** The chance that a pair at distance exactly τ is found (the worst case; closer pairs are likelier). */
  recall_at_tau: number;
  /** Pairs at or under this distance are always found. */
  certain_up_to: number;
  seed: number;
}

/** How many permutations reach the target recall at τ. */
export function planIndex(tau: number, targetRecall = 0.99, seed = 1): IndexPlan {
  const p = catchProbability(tau);
  let permutations = 1;
  if (p < 1) permutations = p <= 0 ? MAX_PERMUTATIONS : Math.min(MAX_PERMUTATIONS, Math.max(1, Math.ceil(Math.log(1 - targetRecall) / Math.log(1 - p))));
  return { tau, permutations, tables: permutations * BLOCKS, recall_at_tau: 1 - (1 - p) ** permutations, certain_up_to: BLOCKS - 1, seed };
}

/** For one permutation: per source byte and byte value, the bits it contributes to blocks 0–1 (low) and 2–3 (high). */
function permutationTables(random: () => number): { low: Uint32Array; high: Uint32Array } {
  const order = Array.from({ length: 64 }, (_, i) => i);
  for (let i = 63; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // target[source bit] = its position in the permuted 64 bits; positions 0–31 go to `low`, 32–63 to `high`.
  const target = new Array<number>(64);
  order.forEach((source, position) => {
    target[source] = position;
  });
  const low = new Uint32Array(8 * 256);
  const high = new Uint32Array(8 * 256);
  for (let byte = 0; byte < 8; byte++) {
    for (let value = 0; value < 256; value++) {
      let l = 0;
      let h = 0;
      for (let bit = 0; bit < 8; bit++) {
        if (((value >>> bit) & 1) === 0) continue;
        const position = target[byte * 8 + bit]!;
        if (position < 32) l |= 1 << position;
        else h |= 1 << (position - 32);
      }
      low[byte * 256 + value] = l >>> 0;
      high[byte * 256 + value] = h >>> 0;
    }
  }
  return { low, high };
}

export interface SearchStats {
  candidates: number;
  tables: number;
}

/**
 * Calls onPair(a, b, distance) with a < b for the pairs within τ the tables find (a pair can be reported by
 * several tables: consumers must be idempotent). Fingerprints are parallel arrays of high and low halves.
 */
export function findNearPairs(his: Uint32Array, los: Uint32Array, plan: IndexPlan, onPair: (a: number, b: number, distance: number) => void): SearchStats {
  const n = his.length;
  const random = seededRandom(plan.seed);
  const keysLow = new Uint32Array(n);
  const keysHigh = new Uint32Array(n);
  const counts = new Uint32Array(65537);
  const order = new Uint32Array(n);
  let candidates = 0;
  for (let p = 0; p < plan.permutations; p++) {
    const { low, high } = permutationTables(random);
    for (let i = 0; i < n; i++) {
      const lo = los[i]!;
      const hi = his[i]!;
      keysLow[i] =
        low[lo & 255]! |
        low[256 + ((lo >>> 8) & 255)]! |
        low[512 + ((lo >>> 16) & 255)]! |
        low[768 + (lo >>> 24)]! |
        low[1024 + (hi & 255)]! |
        low[1280 + ((hi >>> 8) & 255)]! |
        low[1536 + ((hi >>> 16) & 255)]! |
        low[1792 + (hi >>> 24)]!;
      keysHigh[i] =
        high[lo & 255]! |
        high[256 + ((lo >>> 8) & 255)]! |
        high[512 + ((lo >>> 16) & 255)]! |
        high[768 + (lo >>> 24)]! |
        high[1024 + (hi & 255)]! |
        high[1280 + ((hi >>> 8) & 255)]! |
        high[1536 + ((hi >>> 16) & 255)]! |
        high[1792 + (hi >>> 24)]!;
    }
    for (let block = 0; block < BLOCKS; block++) {
      const source = block < 2 ? keysLow : keysHigh;
      const shift = block % 2 === 0 ? 0 : 16;
      // Counting sort by the block's 16 bits, then every pair inside a bucket is a candidate.
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[((source[i]! >>> shift) & 0xffff) + 1]!++;
      for (let k = 1; k <= 65536; k++) counts[k]! += counts[k - 1]!;
      const starts = counts.slice(0, 65536);
      for (let i = 0; i < n; i++) order[counts[(source[i]! >>> shift) & 0xffff]!++] = i;
      for (let k = 0; k < 65536; k++) {
        const start = starts[k]!;
        const end = k === 65535 ? n : starts[k + 1]!;
        for (let x = start; x < end - 1; x++) {
          const a = order[x]!;
          const aHi = his[a]!;
          const aLo = los[a]!;
          for (let y = x + 1; y < end; y++) {
            const b = order[y]!;
            candidates++;
            const distance = hamming(aHi, aLo, his[b]!, los[b]!);
            if (distance <= plan.tau) onPair(Math.min(a, b), Math.max(a, b), distance);
          }
        }
      }
    }
  }
  return { candidates, tables: plan.permutations * BLOCKS };
}
