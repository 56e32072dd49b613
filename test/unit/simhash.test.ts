import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { dedupFingerprints, dedupTexts } from "../../src/datasets/dedup/dedup.js";
import { catchProbability, findNearPairs, planIndex } from "../../src/datasets/dedup/near-index.js";
import { fingerprintHex, hamming, popcount32, shingleHashes, simhash, words } from "../../src/datasets/dedup/simhash.js";
import { SHARED_DATASETS, hasShared } from "../helpers/shared.js";

/** A reference written independently with BigInt: majority vote of each bit over the shingle hashes. */
function bigintSimhash(text: string): bigint {
  const hashes = shingleHashes(text);
  if (hashes.length === 0) return 0n;
  const values: bigint[] = [];
  for (let s = 0; s < hashes.length; s += 2) values.push((BigInt(hashes[s]!) << 32n) | BigInt(hashes[s + 1]!));
  let result = 0n;
  for (let bit = 0n; bit < 64n; bit++) {
    const ones = values.filter((v) => (v >> bit) & 1n).length;
    if (ones * 2 > values.length) result |= 1n << bit;
  }
  return result;
}
const bigintDistance = (a: bigint, b: bigint) => [...(a ^ b).toString(2)].filter((c) => c === "1").length;
const asBigint = (f: { hi: number; lo: number }) => (BigInt(f.hi) << 32n) | BigInt(f.lo);

describe("SimHash (64-bit, two 32-bit halves)", () => {
  it("counts bits and distances like a BigInt reference", () => {
    const random = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const a = Math.floor(random() * 2 ** 32);
      const b = Math.floor(random() * 2 ** 32);
      const c = Math.floor(random() * 2 ** 32);
      const d = Math.floor(random() * 2 ** 32);
      expect(popcount32(a)).toBe([...a.toString(2)].filter((x) => x === "1").length);
      expect(hamming(a, b, c, d)).toBe(bigintDistance((BigInt(a) << 32n) | BigInt(b), (BigInt(c) << 32n) | BigInt(d)));
    }
    expect(popcount32(0xffffffff)).toBe(32);
    expect(hamming(0xffffffff, 0xffffffff, 0, 0)).toBe(64);
  });

  it("gives the fingerprint the BigInt majority vote gives", () => {
    const texts = ["How do I bake bread at home without yeast?", "a", "", "Tell me, tell me, tell me a story about dragons and the sea.", "Ünïcödé wörds — and 42 numbers"];
    for (const text of texts) expect(asBigint(simhash(text))).toBe(bigintSimhash(text));
  });

  it("reads words case- and punctuation-blind, with 3-word shingles", () => {
    expect(words("  Hello, WORLD!  it's 2025 ")).toEqual(["hello", "world", "it", "s", "2025"]);
    expect(shingleHashes("one two three four").length).toBe(4); // 2 shingles × 2 halves
    expect(shingleHashes("one two").length).toBe(2); // shorter than a shingle: one shingle
    expect(fingerprintHex(simhash("Hello, world: how are you today?"))).toBe(fingerprintHex(simhash("hello world how are you today")));
    expect(simhash("")).toEqual({ hi: 0, lo: 0 });
  });

  it("puts near-copies close and unrelated texts about 32 bits apart", () => {
    const base =
      "Write a detailed marketing plan for a small bakery that wants to reach young families in a new neighbourhood, with a budget, a timeline, three channels and the measures of success for each channel";
    const copy = base.replace("small bakery", "small cafe");
    const a = simhash(base);
    const b = simhash(copy);
    expect(hamming(a.hi, a.lo, b.hi, b.lo)).toBeLessThanOrEqual(10);
    const random = seededRandom(11);
    const vocabulary = words(base);
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const x = simhash(Array.from({ length: 30 }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(" ") + ` ${i}`);
      const y = simhash(Array.from({ length: 30 }, () => `w${Math.floor(random() * 1e6)}`).join(" "));
      total += hamming(x.hi, x.lo, y.hi, y.lo);
    }
    expect(total / 200).toBeGreaterThan(28);
    expect(total / 200).toBeLessThan(36);
  });

  it("hashes shingles with every bit balanced", () => {
    const ones = new Array<number>(64).fill(0);
    let n = 0;
    for (let i = 0; i < 20000; i++) {
      const h = shingleHashes(`word${i} other${i % 97} third`);
      for (let bit = 0; bit < 32; bit++) {
        ones[bit]! += (h[1]! >>> bit) & 1;
        ones[32 + bit]! += (h[0]! >>> bit) & 1;
      }
      n++;
    }
    // 20,000 fair coins: sd 0.0035; 0.47–0.53 is over 8 sd.
    for (const count of ones) expect(Math.abs(count / n - 0.5)).toBeLessThan(0.03);
  });
});

describe("permuted-table index", () => {
  it("catch probabilities match hand computation", () => {
    for (const d of [0, 1, 2, 3]) expect(catchProbability(d)).toBe(1);
    // d = 4 is missed only when each 16-bit block holds exactly one differing bit: 16^4 / C(64,4) = 65536 / 635376.
    expect(catchProbability(4)).toBeCloseTo(1 - 65536 / 635376, 12);
    // d = 10: inclusion–exclusion computed separately with Python (itertools over the blocks, math.comb): 0.170180…
    expect(catchProbability(10)).toBeCloseTo(0.1702, 4);
    const plan = planIndex(10);
    expect(plan.permutations).toBe(25);
    expect(plan.tables).toBe(100);
    expect(plan.recall_at_tau).toBeCloseTo(1 - (1 - catchProbability(10)) ** 25, 12);
    expect(plan.recall_at_tau).toBeGreaterThanOrEqual(0.99);
    expect(planIndex(3).permutations).toBe(1);
  });

  it("finds planted pairs at every distance up to τ and nothing past it", () => {
    const random = seededRandom(5);
    const n = 3000;
    const his = new Uint32Array(n);
    const los = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      his[i] = Math.floor(random() * 2 ** 32);
      los[i] = Math.floor(random() * 2 ** 32);
    }
    // Row 2k+1 is row 2k with k mod 13 random bits flipped: distances 0–12.
    for (let i = 0; i + 1 < n; i += 2) {
      const flips = (i / 2) % 13;
      let hi = his[i]!;
      let lo = los[i]!;
      const bits = new Set<number>();
      while (bits.size < flips) bits.add(Math.floor(random() * 64));
      for (const bit of bits) bit < 32 ? (lo ^= 1 << bit) : (hi ^= 1 << (bit - 32));
      his[i + 1] = hi >>> 0;
      los[i + 1] = lo >>> 0;
    }
    const brute = bruteForce(his, los, 10);
    const found = new Map<string, number>();
    findNearPairs(his, los, planIndex(10), (a, b, d) => found.set(`${a}:${b}`, d));
    for (const [key, d] of found) expect(brute.get(key)).toBe(d);
    const missed = [...brute].filter(([key]) => !found.has(key));
    for (const [, d] of missed) expect(d).toBeGreaterThan(3);
    expect(1 - missed.length / brute.size).toBeGreaterThanOrEqual(0.97);
    expect([...brute.values()].some((d) => d === 10)).toBe(true);
    expect([...found.values()].every((d) => d <= 10)).toBe(true);
  });

  it.skipIf(!hasShared)("on 2,000 real Mis-Align-Bench prompts and their near-copies: the distances brute force finds, at ≥ 99% recall", () => {
    const rows = parse(readFileSync(`${SHARED_DATASETS}mis-align-bench/before_generation_count.csv`), { columns: true }) as Array<{ prompt: string }>;
    const random = seededRandom(2000);
    const sample = Array.from({ length: 2000 }, () => rows[Math.floor(random() * rows.length)]!.prompt);
    // Near-copies of the first 500 (one word replaced or dropped), so that pairs exist at many distances.
    const texts = [
      ...sample,
      ...sample.slice(0, 500).map((text, i) =>
        text
          .split(/\s+/)
          .filter((_, w) => w !== i % 7)
          .join(" "),
      ),
    ];
    const prints = texts.map((text) => simhash(text));
    const his = Uint32Array.from(prints, (p) => p.hi);
    const los = Uint32Array.from(prints, (p) => p.lo);
    const brute = bruteForce(his, los, 10);
    const found = new Map<string, number>();
    findNearPairs(his, los, planIndex(10), (a, b, d) => found.set(`${a}:${b}`, d));
    expect(brute.size).toBeGreaterThan(300);
    for (const [key, d] of found) expect(brute.get(key)).toBe(d);
    const missed = [...brute].filter(([key]) => !found.has(key));
    for (const [, d] of missed) expect(d).toBeGreaterThan(3);
    expect(1 - missed.length / brute.size).toBeGreaterThanOrEqual(0.99);
  });
});

function bruteForce(his: Uint32Array, los: Uint32Array, tau: number): Map<string, number> {
  const pairs = new Map<string, number>();
  for (let a = 0; a < his.length; a++)
    for (let b = a + 1; b < his.length; b++) {
      const d = hamming(his[a]!, los[a]!, his[b]!, los[b]!);
      if (d <= tau) pairs.set(`${a}:${b}`, d);
    }
  return pairs;
}

describe("near-duplicate removal", () => {
  it("clusters near-copies, keeps each cluster's first row and says how far the removed ones were", () => {
    const long = "Please explain in simple words how vaccines train the immune system to recognise a virus before an infection happens";
    const texts = [
      "What is the capital of France and why did it become the capital?",
      long,
      "Explain quantum tunnelling to a ten year old with one everyday example",
      long.toUpperCase() + "!!!",
      long.replace("happens", "starts"),
      "What is the capital of France and why did it become the capital?",
    ];
    const result = dedupTexts(texts, { tau: 10 });
    expect(result.keep).toEqual([true, true, true, false, false, false]);
    expect(result.removed).toBe(3);
    expect(result.unique_fingerprints).toBe(4);
    expect(result.clusters.map((c) => [c.kept, c.removed.map((r) => r.index)])).toEqual([
      [0, [5]],
      [1, [3, 4]],
    ]);
    const [a, b] = [simhash(long), simhash(texts[4]!)];
    expect(result.clusters[1]!.removed).toEqual([
      { index: 3, distance: 0 },
      { index: 4, distance: hamming(a.hi, a.lo, b.hi, b.lo) },
    ]);
  });

  it("never removes a row past τ from its kept copy: a chain A~B~C keeps A and C", () => {
    // B is A with 6 bits flipped; C is B with 6 other bits flipped: d(A,B) = d(B,C) = 6, d(A,C) = 12.
    const his = Uint32Array.from([0, 0, 0, 0xdeadbeef]);
    const los = Uint32Array.from([0, 0b111111, 0b111111111111, 0x12345678]);
    const result = dedupFingerprints(his, los, { tau: 10 });
    expect(result.keep).toEqual([true, false, true, true]);
    expect(result.clusters).toEqual([{ kept: 0, removed: [{ index: 1, distance: 6 }] }]);
  });
});
