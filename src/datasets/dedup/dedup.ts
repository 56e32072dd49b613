import { findNearPairs, planIndex, type IndexPlan, type SearchStats } from "./near-index.js";
import { DEFAULT_SHINGLE, hamming, simhash } from "./simhash.js";

export const DEFAULT_TAU = 10;

export interface DedupOptions {
  /** Hamming distance at or under which two prompts are near-duplicates (default 10, the paper's τ). */
  tau?: number;
  /** Words per shingle (default 3). */
  shingle?: number;
  /** Target chance of finding a pair at distance exactly τ (default 0.99). */
  recall?: number;
  /** Seed of the index's bit permutations (default 1). */
  seed?: number;
}

export interface DedupCluster {
  /** The copy kept: the cluster's first row in file order. */
  kept: number;
  /** The rows removed, each with its distance (≤ τ) to the kept copy. */
  removed: Array<{ index: number; distance: number }>;
}

export interface DedupResult {
  n: number;
  kept: number;
  removed: number;
  /** Fingerprints shared by several rows, counted once by the index. */
  unique_fingerprints: number;
  clusters: DedupCluster[];
  /** keep[i] is true for the rows kept. */
  keep: boolean[];
  index: IndexPlan & SearchStats & { pairs_within_tau: number };
  shingle: number;
}

/** Union–find with path halving, over row numbers. */
class Components {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n).map((_, i) => i);
  }
  find(x: number): number {
    const parent = this.parent;
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  }
  /** Joins two sets; the root is the smaller row number, so a cluster's root is its first row. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}

/** Fingerprints of many texts as parallel typed arrays. */
export function fingerprints(texts: readonly string[], shingle = DEFAULT_SHINGLE): { his: Uint32Array; los: Uint32Array } {
  const his = new Uint32Array(texts.length);
  const los = new Uint32Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const { hi, lo } = simhash(texts[i]!, { shingle });
    his[i] = hi;
    los[i] = lo;
  }
  return { his, los };
}

/**
 * Near-duplicate removal. The index links rows whose SimHash fingerprints are within τ; inside each connected
 * group, rows are taken in file order and a row within τ of a row already kept is removed (that row is its
 * kept copy), so removed rows are within τ of their copy and the kept rows are more than τ apart. Distances
 * inside a group are computed exactly, so a pair the index missed there is still seen.
 */
export function dedupFingerprints(his: Uint32Array, los: Uint32Array, options: DedupOptions = {}): DedupResult {
  const n = his.length;
  const tau = options.tau ?? DEFAULT_TAU;
  // Rows with one fingerprint are distance 0 apart: the index sees each fingerprint once (first row standing for it).
  const representative = new Int32Array(n);
  const firstOf = new Map<number, number[]>();
  const uniqueRows: number[] = [];
  for (let i = 0; i < n; i++) {
    const bucketKey = (his[i]! ^ Math.imul(los[i]!, 0x9e3779b1)) >>> 0;
    const list = firstOf.get(bucketKey);
    const same = list?.find((row) => his[row] === his[i] && los[row] === los[i]);
    if (same !== undefined) {
      representative[i] = same;
      continue;
    }
    representative[i] = i;
    uniqueRows.push(i);
    if (list) list.push(i);
    else firstOf.set(bucketKey, [i]);
  }
  const uHis = Uint32Array.from(uniqueRows, (row) => his[row]!);
  const uLos = Uint32Array.from(uniqueRows, (row) => los[row]!);
  const plan = planIndex(tau, options.recall ?? 0.99, options.seed ?? 1);
  const components = new Components(n);
  let pairs = 0;
  const stats = findNearPairs(uHis, uLos, plan, (a, b) => {
    pairs++;
    components.union(uniqueRows[a]!, uniqueRows[b]!);
  });
  for (let i = 0; i < n; i++) if (representative[i] !== i) components.union(i, representative[i]!);
  // Members of each linked group, in file order (roots are first rows, so a group starts with its root).
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = components.find(i);
    if (root === i && !members.has(i)) continue;
    let list = members.get(root);
    if (!list) members.set(root, (list = [root]));
    if (root !== i) list.push(i);
  }
  const keep = new Array<boolean>(n).fill(true);
  const clusters = new Map<number, DedupCluster>();
  for (const list of members.values()) {
    // Greedy in file order: a row is removed when it is within τ of a row already kept (the first such is its
    // kept copy), else kept. So every removed row is within τ of its kept copy, and no two kept rows are.
    const kept: number[] = [];
    for (const row of list) {
      const copy = kept.find((k) => hamming(his[k]!, los[k]!, his[row]!, los[row]!) <= tau);
      if (copy === undefined) {
        kept.push(row);
        continue;
      }
      keep[row] = false;
      let cluster = clusters.get(copy);
      if (!cluster) clusters.set(copy, (cluster = { kept: copy, removed: [] }));
      cluster.removed.push({ index: row, distance: hamming(his[copy]!, los[copy]!, his[row]!, los[row]!) });
    }
  }
  const removed = n - keep.filter(Boolean).length;
  return {
    n,
    kept: n - removed,
    removed,
    unique_fingerprints: uniqueRows.length,
    clusters: [...clusters.values()].sort((a, b) => a.kept - b.kept),
    keep,
    index: { ...plan, ...stats, pairs_within_tau: pairs },
    shingle: options.shingle ?? DEFAULT_SHINGLE,
  };
}

/** Near-duplicate removal over texts. */
export function dedupTexts(texts: readonly string[], options: DedupOptions = {}): DedupResult {
  const { his, los } = fingerprints(texts, options.shingle);
  return dedupFingerprints(his, los, options);
}
