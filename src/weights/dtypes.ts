import { weightKernels } from "./kernels.js";

/**
 * The three floating-point element types the weight tools read and write, and exact conversions between them.
 * F16 and BF16 values are all exactly representable in float32, so reading widens without loss. Writing rounds
 * a double-precision result once, to nearest with ties to even: a double is first rounded to float32 *to odd*
 * (the float32 neighbour with an odd last bit whenever the conversion is inexact), then to the 16-bit format
 * to nearest even. Rounding to odd at 24 bits before rounding to 8 or 11 bits gives the correctly rounded
 * result (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to
 * odd", IEEE TC 2008), where rounding to nearest twice would not (a tie created by the first rounding).
 */
export type DType = "F32" | "F16" | "BF16";

export const DTYPE_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };

export function isDType(value: string): value is DType {
  return value === "F32" || value === "F16" || value === "BF16";
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 bit pattern of `x` rounded to odd (see above); NaN keeps its float32 pattern. */
export function float32BitsRoundedToOdd(x: number): number {
  f32[0] = x;
  let bits = u32[0]!;
  const nearest = f32[0]!;
  if (nearest !== x && !Number.isNaN(x) && (bits & 1) === 0) {
    // Inexact and even: step to the other neighbour of x, one unit in the last place toward it (bits are
    // ordered by magnitude, so ±1 moves the magnitude; from ±Infinity it lands on the largest finite value).
    bits += Math.abs(nearest) < Math.abs(x) ? 1 : -1;
  }
  return bits >>> 0;
}

/** BF16 bits of a float32 bit pattern, rounded to nearest even; NaN stays a (quiet) NaN of the same sign. */
export function bf16FromFloat32Bits(bits: number): number {
  if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** F16 bits of a float32 bit pattern, rounded to nearest even: overflow to ±Infinity, gradual underflow. */
export function f16FromFloat32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const magnitude = (bits & 0x7fffffff) >>> 0;
  if (magnitude > 0x7f800000) return sign | 0x7e00;
  // 65520 is half-way between 65504 (the largest F16) and 65536: ties go to the even one, Infinity.
  if (magnitude >= 0x477ff000) return sign | 0x7c00;
  if (magnitude >= 0x38800000) {
    // Normal: rebias the exponent (127 → 15) and round away the low 13 mantissa bits to nearest even.
    const rebiased = magnitude - 0x38000000;
    return sign | ((rebiased + 0x0fff + ((rebiased >>> 13) & 1)) >>> 13);
  }
  // Subnormal (or zero): the value in units of 2^-24, rounded to nearest even (exact in double).
  u32[0] = magnitude;
  const units = f32[0]! * 2 ** 24;
  let whole = Math.floor(units);
  const rest = units - whole;
  if (rest > 0.5 || (rest === 0.5 && whole % 2 === 1)) whole++;
  return sign | whole;
}

/** BF16 bits of a double, correctly rounded (nearest, ties to even). */
export function toBf16(x: number): number {
  return bf16FromFloat32Bits(float32BitsRoundedToOdd(x));
}

/** F16 bits of a double, correctly rounded (nearest, ties to even). */
export function toF16(x: number): number {
  return f16FromFloat32Bits(float32BitsRoundedToOdd(x));
}

/** Every F16 bit pattern's value: reading F16 is one table lookup per element. */
const F16_VALUES = (() => {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[bits] = mantissa === 0 ? sign * Infinity : Number.NaN;
    else table[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
})();

export function fromF16(bits: number): number {
  return F16_VALUES[bits & 0xffff]!;
}

export function fromBf16(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

/**
 * Widens `count` little-endian elements of `dtype` from `bytes` (offset 0 of its own ArrayBuffer) into float32.
 * F32 needs no work: the returned array is a view of `bytes` itself. Others are decoded into `scratch`.
 */
export function decodeChunk(dtype: DType, bytes: ArrayBuffer, count: number, scratch: Float32Array): Float32Array {
  if (dtype === "F32") return new Float32Array(bytes, 0, count);
  const native = weightKernels();
  if (!native) return decodeChunkJs(dtype, bytes, count, scratch);
  const out = scratch.subarray(0, count);
  native.decode(dtype === "F16" ? 1 : 2, new Uint16Array(bytes, 0, count), out);
  return out;
}

/** decodeChunk in JavaScript: the reference for the C kernel and the path without it (a function of its own, so V8 keeps its loops fast). */
export function decodeChunkJs(dtype: DType, bytes: ArrayBuffer, count: number, scratch: Float32Array): Float32Array {
  if (dtype === "F32") return new Float32Array(bytes, 0, count);
  const halves = new Uint16Array(bytes, 0, count);
  const out = scratch.subarray(0, count);
  if (dtype === "F16") {
    for (let i = 0; i < count; i++) out[i] = F16_VALUES[halves[i]!]!;
  } else {
    const words = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let i = 0; i < count; i++) words[i] = halves[i]! << 16;
  }
  return out;
}

/**
 * Narrows `count` doubles to `dtype` (correctly rounded) into `out`, which must hold count × 4 bytes: F16 and
 * BF16 are staged there as float32 first. The bulk float64 → float32 conversion (native, to nearest even) is
 * then corrected to round-to-odd where it was inexact and landed on an even pattern, and each word narrowed
 * in place (element i's 2 bytes go where element i/2's word was, already read).
 */
export function encodeChunk(dtype: DType, values: Float64Array, count: number, out: ArrayBuffer): void {
  const native = weightKernels();
  if (native) native.encode(dtype === "F32" ? 0 : dtype === "F16" ? 1 : 2, values.subarray(0, count), new Uint8Array(out, 0, count * DTYPE_BYTES[dtype]));
  else encodeChunkJs(dtype, values, count, out);
}

/** encodeChunk in JavaScript: the reference for the C kernel and the path without it. */
export function encodeChunkJs(dtype: DType, values: Float64Array, count: number, out: ArrayBuffer): void {
  const singles = new Float32Array(out, 0, count);
  // Float64 → float32 assignment rounds to nearest even (ECMAScript's ToFloat32).
  singles.set(values.subarray(0, count));
  if (dtype === "F32") return;
  const words = new Uint32Array(out, 0, count);
  const halves = new Uint16Array(out, 0, count);
  const bf16 = dtype === "BF16";
  for (let i = 0; i < count; i++) {
    const x = values[i]!;
    const nearest = singles[i]!;
    // Round to odd without a branch: truncate toward zero (one step down in magnitude where rounding went up),
    // then set the last bit when inexact. A NaN stays a NaN (its mantissa is not zero either way).
    const inexact = nearest !== x ? 1 : 0;
    const down = (nearest < 0 ? -nearest : nearest) > (x < 0 ? -x : x) ? 1 : 0;
    const bits = ((words[i]! - down) | inexact) >>> 0;
    if (!bf16) halves[i] = f16FromFloat32Bits(bits);
    else if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) halves[i] = ((bits >>> 16) | 0x0040) & 0xffff;
    else halves[i] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
  }
}
