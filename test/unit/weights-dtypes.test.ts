import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { encodeChunk, fromBf16, fromF16, toBf16, toF16 } from "../../src/weights/dtypes.js";

// BF16 and F16 rounding from double precision: hand-worked cases (ties to even, the double-rounding traps,
// overflow, NaN, subnormals), every 16-bit pattern round-tripped, and random values checked against the
// definition (the nearer of the two neighbouring representable values; the even one on a tie).

const hex = (bits: number) => `0x${bits.toString(16).padStart(4, "0")}`;

describe("BF16 rounding (8 significant bits)", () => {
  it.each([
    ["1", 1, 0x3f80],
    ["1 + 2⁻⁷ (exact)", 1 + 2 ** -7, 0x3f81],
    ["1 + 2⁻⁸: a tie between 0x3f80 and 0x3f81, to the even 0x3f80", 1 + 2 ** -8, 0x3f80],
    ["1 + 3·2⁻⁸: a tie between 0x3f81 and 0x3f82, to the even 0x3f82", 1 + 3 * 2 ** -8, 0x3f82],
    // Rounding to float32 first would make this a tie (the 2⁻³⁰ is below float32's precision) and give 0x3f80.
    ["1 + 2⁻⁸ + 2⁻³⁰: just above the tie", 1 + 2 ** -8 + 2 ** -30, 0x3f81],
    ["−(1 + 2⁻⁸ + 2⁻³⁰)", -(1 + 2 ** -8 + 2 ** -30), 0xbf81],
    ["the largest BF16, (2 − 2⁻⁷)·2¹²⁷", (2 - 2 ** -7) * 2 ** 127, 0x7f7f],
    ["half-way above the largest: to the even, Infinity", (2 - 2 ** -8) * 2 ** 127, 0x7f80],
    ["just below half-way above the largest", (2 - 2 ** -8 - 2 ** -20) * 2 ** 127, 0x7f7f],
    ["above the float32 range (1e39)", 1e39, 0x7f80],
    ["below it (−1e39)", -1e39, 0xff80],
    ["Infinity", Number.POSITIVE_INFINITY, 0x7f80],
    ["−0", -0, 0x8000],
    ["the smallest subnormal 2⁻¹³³", 2 ** -133, 0x0001],
    ["2⁻¹³⁴: a tie between 0 and 2⁻¹³³, to 0", 2 ** -134, 0x0000],
    ["2⁻¹³⁴ + 2⁻¹⁶⁰: just above the tie", 2 ** -134 + 2 ** -160, 0x0001],
  ])("%s → %s", (_, value, bits) => {
    expect(hex(toBf16(value))).toBe(hex(bits));
  });

  it("NaN stays NaN (quiet)", () => {
    expect(hex(toBf16(Number.NaN) & 0x7fc0)).toBe("0x7fc0");
    expect(fromBf16(toBf16(Number.NaN))).toBeNaN();
  });

  it("every non-NaN pattern round-trips", () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      const value = fromBf16(bits);
      if (!Number.isNaN(value) && toBf16(value) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe("F16 rounding (11 significant bits)", () => {
  it.each([
    ["65504, the largest F16", 65504, 0x7bff],
    ["65519.99", 65519.99, 0x7bff],
    ["65520: half-way to 65536, to the even, Infinity", 65520, 0x7c00],
    ["1 + 2⁻¹¹: a tie, to the even 0x3c00", 1 + 2 ** -11, 0x3c00],
    ["1 + 3·2⁻¹¹: a tie, to the even 0x3c02", 1 + 3 * 2 ** -11, 0x3c02],
    ["1 + 2⁻¹¹ + 2⁻⁴⁰: just above the tie", 1 + 2 ** -11 + 2 ** -40, 0x3c01],
    ["the smallest normal 2⁻¹⁴", 2 ** -14, 0x0400],
    ["the smallest subnormal 2⁻²⁴", 2 ** -24, 0x0001],
    ["2⁻²⁵: a tie between 0 and 2⁻²⁴, to 0", 2 ** -25, 0x0000],
    ["3·2⁻²⁵: a tie between 1 and 2 units, to 2", 3 * 2 ** -25, 0x0002],
    ["2⁻²⁵ + 2⁻⁵⁰: just above the tie", 2 ** -25 + 2 ** -50, 0x0001],
    ["(2¹⁰ − ½)·2⁻²⁴: the largest subnormal's tie with the smallest normal, to the normal", (1024 - 0.5) * 2 ** -24, 0x0400],
    ["−2", -2, 0xc000],
    ["−Infinity", Number.NEGATIVE_INFINITY, 0xfc00],
  ])("%s → %s", (_, value, bits) => {
    expect(hex(toF16(value))).toBe(hex(bits));
  });

  it("NaN stays NaN", () => {
    expect(fromF16(toF16(Number.NaN))).toBeNaN();
  });

  it("every non-NaN pattern round-trips", () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      const value = fromF16(bits);
      if (!Number.isNaN(value) && toF16(value) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

/**
 * The definition: no neighbour of the result (one pattern step either way, same sign) is nearer, and on a tie
 * the result's pattern is even. Returns the problem, or undefined.
 */
function roundingProblem(value: number, bits: number, decode: (bits: number) => number): string | undefined {
  const got = decode(bits);
  if (!Number.isFinite(got)) return undefined;
  for (const neighbour of [decode(bits + 1), decode(bits - 1)]) {
    if (!Number.isFinite(neighbour) || Math.sign(neighbour) !== Math.sign(got)) continue;
    const [mine, theirs] = [Math.abs(value - got), Math.abs(value - neighbour)];
    if (mine > theirs) return `${value} → ${got} but ${neighbour} is nearer`;
    if (mine === theirs && bits & 1) return `${value}: a tie must go to the even pattern`;
  }
  return undefined;
}

describe("random values against the definition", () => {
  it("100,000 doubles across the exponent ranges round to the nearer neighbour", () => {
    const random = seededRandom(7);
    const problems: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const value = (random() - 0.5) * 2 ** Math.floor(random() * 60 - 30);
      for (const problem of [roundingProblem(value, toBf16(value), fromBf16), roundingProblem(value, toF16(value), fromF16)]) if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });
});

describe("a chunk encoded at once", () => {
  it("gives the same bits as the element-by-element conversion (staged float32 corrected to round-to-odd)", () => {
    const random = seededRandom(11);
    const values = Float64Array.from({ length: 50_000 }, (_, i) =>
      i % 97 === 0 ? Number.NaN : i % 89 === 0 ? 1e39 * (i % 2 ? 1 : -1) : i % 83 === 0 ? 1 + 2 ** -8 + 2 ** -30 : (random() - 0.5) * 2 ** Math.floor(random() * 60 - 30),
    );
    for (const [dtype, one] of [
      ["BF16", toBf16],
      ["F16", toF16],
    ] as const) {
      const out = new ArrayBuffer(values.length * 4);
      encodeChunk(dtype, values, values.length, out);
      const halves = new Uint16Array(out, 0, values.length);
      const wrong = [...values].flatMap((value, i) => (halves[i] === one(value) ? [] : [`${value}: ${halves[i]} ≠ ${one(value)}`]));
      expect(wrong).toEqual([]);
    }
  });
});
