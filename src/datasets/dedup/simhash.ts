/**
 * 64-bit SimHash (Charikar 2002; Manku, Jain & Das Sarma 2007) over word shingles, held as two unsigned 32-bit
 * halves so that no BigInt is needed on the hot path. The npm `simhash-js` package is 32-bit and miscounts
 * distances; this is our own.
 *
 * Text → words: lower-cased, split on anything that is not a Unicode letter or digit.
 * Words → shingles: every run of `shingle` consecutive words (default 3); a text shorter than that is one
 * shingle of all its words; an empty text has no shingle and the fingerprint 0.
 * Shingle → 64-bit hash: each word gets two independent 32-bit hashes (FNV-1a, and a multiply-rotate hash
 * with another seed) computed in one pass over its UTF-16 code units; a shingle's high half mixes its words'
 * first hashes and its low half their second hashes (rotate, xor, multiply), each finished with MurmurHash3's
 * 32-bit finaliser so every input bit reaches every output bit.
 * Fingerprint: bit i is 1 when more of the text's shingles (counted with repeats) have bit i set than unset.
 */

export interface SimHashOptions {
  /** Words per shingle (default 3). */
  shingle?: number;
}

export const DEFAULT_SHINGLE = 3;

/** A fingerprint: the high and low 32 bits, both unsigned. */
export interface Fingerprint {
  hi: number;
  lo: number;
}

const WORD_SPLIT = /[^\p{L}\p{N}]+/u;

/** The words a text is compared by: lower-cased runs of letters and digits. */
export function words(text: string): string[] {
  const parts = text.toLowerCase().split(WORD_SPLIT);
  // split leaves an empty string at either end when the text starts or ends with a separator.
  let start = 0;
  let end = parts.length;
  if (end > 0 && parts[0] === "") start = 1;
  if (end > start && parts[end - 1] === "") end--;
  return start === 0 && end === parts.length ? parts : parts.slice(start, end);
}

/** MurmurHash3's 32-bit finaliser (fmix32): an avalanche step. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}

/** Two independent 32-bit hashes of a word, written to out[0] and out[1]. */
function hashWord(word: string, out: Uint32Array): void {
  let fnv = 0x811c9dc5;
  let mul = 0x9747b28c;
  for (let i = 0; i < word.length; i++) {
    const unit = word.charCodeAt(i);
    fnv = Math.imul(fnv ^ unit, 0x01000193);
    mul = Math.imul(rotl((mul ^ unit) >>> 0, 15), 0x1b873593);
  }
  out[0] = fmix32(fnv ^ word.length);
  out[1] = fmix32(mul ^ Math.imul(word.length, 0xcc9e2d51));
}

/** The 64-bit hash of the shingle made of words [start, end), from their word hashes (first and second halves). */
function shingleHash(first: Uint32Array, second: Uint32Array, start: number, end: number, out: Uint32Array): void {
  let x = 0x3c6ef372;
  let y = 0xa54ff53a;
  for (let i = start; i < end; i++) {
    x = Math.imul(rotl((x ^ first[i]!) >>> 0, 13), 0x9e3779b1);
    y = Math.imul(rotl((y ^ second[i]!) >>> 0, 17), 0x85ebca77);
  }
  out[0] = fmix32(x ^ (end - start));
  out[1] = fmix32(y ^ Math.imul(end - start, 0x27d4eb2f));
}

/** The 64-bit hashes of a text's shingles, as [hi0, lo0, hi1, lo1, …] (exposed for the reference test). */
export function shingleHashes(text: string, options: SimHashOptions = {}): Uint32Array {
  const size = options.shingle ?? DEFAULT_SHINGLE;
  const list = words(text);
  const n = list.length;
  if (n === 0) return new Uint32Array(0);
  const first = new Uint32Array(n);
  const second = new Uint32Array(n);
  const pair = new Uint32Array(2);
  for (let i = 0; i < n; i++) {
    hashWord(list[i]!, pair);
    first[i] = pair[0]!;
    second[i] = pair[1]!;
  }
  const count = n < size ? 1 : n - size + 1;
  const out = new Uint32Array(count * 2);
  for (let s = 0; s < count; s++) {
    shingleHash(first, second, s, Math.min(n, s + size), pair);
    out[2 * s] = pair[0]!;
    out[2 * s + 1] = pair[1]!;
  }
  return out;
}

const tally = new Int32Array(64);

/** The fingerprint of a text. */
export function simhash(text: string, options: SimHashOptions = {}): Fingerprint {
  const hashes = shingleHashes(text, options);
  if (hashes.length === 0) return { hi: 0, lo: 0 };
  tally.fill(0);
  for (let s = 0; s < hashes.length; s += 2) {
    const hi = hashes[s]!;
    const lo = hashes[s + 1]!;
    for (let bit = 0; bit < 32; bit++) {
      tally[bit]! += ((lo >>> bit) & 1) * 2 - 1;
      tally[32 + bit]! += ((hi >>> bit) & 1) * 2 - 1;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (tally[bit]! > 0) lo |= 1 << bit;
    if (tally[32 + bit]! > 0) hi |= 1 << bit;
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

/** Set bits of a 32-bit value (SWAR popcount). */
export function popcount32(value: number): number {
  let v = value >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Hamming distance of two fingerprints (0–64). */
export function hamming(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32(aHi ^ bHi) + popcount32(aLo ^ bLo);
}

/** The fingerprint as 16 hex digits (for reports and tests). */
export function fingerprintHex(fingerprint: Fingerprint): string {
  return fingerprint.hi.toString(16).padStart(8, "0") + fingerprint.lo.toString(16).padStart(8, "0");
}
