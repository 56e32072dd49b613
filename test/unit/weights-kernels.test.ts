import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { openCheckpoint } from "../../src/weights/checkpoint.js";
import { addChunk, addChunkNative, diffCheckpoints, emptySums, writeDeltas } from "../../src/weights/diff.js";
import { decodeChunkJs, encodeChunkJs, type DType } from "../../src/weights/dtypes.js";
import { buildWeightKernels, loadWeightKernels, useWeightKernels, type WeightKernels } from "../../src/weights/kernels.js";
import { mergeCheckpoints, type MergeOptions } from "../../src/weights/merge.js";
import { taskArithmetic, ties } from "../../src/weights/merge-methods.js";
import { tempDir } from "../helpers/run-folder.js";
import { writeSafetensors } from "../helpers/safetensors-files.js";

// The C kernels (src/weights/native/weights-kernels.c) against their JavaScript twins, which are the reference:
// every output bit for bit; the statistics' sums to 1e-12 relative (the C sums run in 8 lanes, added up at the
// end, where addChunk keeps one running sum), their counts and maxima exactly. Compiled into a fresh cache
// folder; skipped only on a machine without a C compiler.
const build = await buildWeightKernels({ env: { ...process.env, ALIGNBENCH_NATIVE_DIR: tempDir() } });
const noCompiler = "unavailable" in build && /^no C compiler/.test(build.unavailable);
// CI installs gcc and sets ALIGNBENCH_REQUIRE_NATIVE=1: there these tests cannot skip.
if ("unavailable" in build && (!noCompiler || process.env.ALIGNBENCH_REQUIRE_NATIVE === "1")) throw new Error(`the weight kernels do not build: ${build.unavailable}`);
const native: WeightKernels | undefined = "path" in build ? createRequire(import.meta.url)(build.path) : undefined;

/** The same file twice (the outputs are written to the same paths, so that the metadata naming them agrees). */
const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
/** Every number in `got` within 1e-12 relative of the one in `want` (NaN matching NaN); all else equal. */
function expectClose(got: unknown, want: unknown, path = ""): void {
  if (typeof want === "number" && typeof got === "number") {
    if (Object.is(got, want) || got === want) return;
    expect(Math.abs(got - want), `${path}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(got), Math.abs(want)));
  } else if (want && typeof want === "object" && got && typeof got === "object") {
    expect(Object.keys(got).sort(), path).toEqual(Object.keys(want).sort());
    for (const key of Object.keys(want)) expectClose((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], `${path}.${key}`);
  } else expect(got, path).toEqual(want);
}

const bytes = (array: ArrayBufferView) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

/** Awkward values: ±0, ±Infinity, NaN, subnormals, F16/BF16 ties and overflow edges, and seeded random ones. */
function awkward(count: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const special = [
    0,
    -0,
    Infinity,
    -Infinity,
    Number.NaN,
    1e-45,
    -1e-45,
    2 ** -149,
    2 ** -126,
    65504,
    65520,
    65519.99,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    1 + 2 ** -8,
    1 + 2 ** -8 + 2 ** -40,
    3.4e38,
    3.5e38,
    1e300,
  ];
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const pick = random();
    if (i < special.length) values[i] = special[i]!;
    else if (pick < 0.05) values[i] = special[Math.floor(random() * special.length)]! * (random() < 0.5 ? -1 : 1);
    else if (pick < 0.5) values[i] = (random() - 0.5) * 2 ** Math.floor(random() * 60 - 30);
    else values[i] = (random() - 0.5) * 0.1;
  }
  return values;
}

describe.skipIf(noCompiler)("the weight kernels against their JavaScript twins", () => {
  it("decode every F16 and BF16 bit pattern to the same float32 bits", () => {
    const patterns = new Uint16Array(65536).map((_, i) => i);
    for (const [dtype, kind] of [
      ["F16", 1],
      ["BF16", 2],
    ] as const) {
      const want = decodeChunkJs(dtype, patterns.slice().buffer, 65536, new Float32Array(65536));
      const got = new Float32Array(65536);
      native!.decode(kind, patterns, got);
      expect(bytes(got).equals(bytes(want)), dtype).toBe(true);
    }
  });

  it("encode every 16-bit pattern's value, its neighbours' midpoints and random doubles to the same bits", () => {
    const patterns = new Uint16Array(65536).map((_, i) => i);
    const f16 = decodeChunkJs("F16", patterns.slice().buffer, 65536, new Float32Array(65536));
    const bf16 = decodeChunkJs("BF16", patterns.slice().buffer, 65536, new Float32Array(65536));
    const midpoints = Float64Array.from({ length: 65535 }, (_, i) => (f16[i]! + f16[i + 1]!) / 2);
    const inputs = [Float64Array.from(f16), Float64Array.from(bf16), midpoints, awkward(200_000, 17)];
    for (const values of inputs) {
      for (const [dtype, kind] of [
        ["F32", 0],
        ["F16", 1],
        ["BF16", 2],
      ] as Array<[DType, number]>) {
        const size = dtype === "F32" ? 4 : 2;
        const want = new ArrayBuffer(values.length * 4);
        encodeChunkJs(dtype, values, values.length, want);
        const got = new Uint8Array(values.length * size);
        native!.encode(kind, values, got);
        expect(bytes(got).equals(Buffer.from(want, 0, values.length * size)), `${dtype} of ${values.length} values`).toBe(true);
      }
    }
    // And the 16-bit values come back as their own patterns (NaNs aside: both sides give the quiet pattern).
    const back = new Uint8Array(65536 * 2);
    native!.encode(1, Float64Array.from(f16), back);
    const halves = new Uint16Array(back.buffer);
    for (let bits = 0; bits < 65536; bits++) if (!Number.isNaN(f16[bits])) expect(halves[bits]).toBe(bits);
  });

  it("sum a chunk as addChunk does (counts and maxima exactly), NaN and −0 rules included, and write the same deltas", () => {
    const values = awkward(300_001, 5);
    const base = Float32Array.from(values);
    const finetuned = Float32Array.from(base, (b, i) => (i % 7 === 0 ? b : i % 11 === 0 ? -b : b + values[(i * 31) % values.length]! * 0.01));
    finetuned[3] = Number.NaN; // NaN against 0: changed
    base[4] = Number.NaN; // NaN on both sides (finetuned[4] = NaN already): unchanged
    const finite = (x: number) => (Number.isFinite(Math.fround(x)) ? x : 0.25);
    const plainBase = Float32Array.from(awkward(1_000_003, 6), finite);
    const plainFinetuned = Float32Array.from(awkward(1_000_003, 7), (x, i) => (i % 5 === 0 ? plainBase[i]! : finite(x)));
    for (const [b, f] of [
      [plainBase, plainFinetuned], // finite: the sums are compared to 1e-12, not merely NaN = NaN
      [base.subarray(30), finetuned.subarray(30)], // with random specials
      [base, finetuned], // with NaN
      [Float32Array.of(0, -0, 1), Float32Array.of(-0, 0, 1)], // −0 equals +0
    ] as const) {
      const [js, c] = [emptySums(), emptySums()];
      addChunk(js, b, f);
      addChunkNative(native!, c, b, f, new Float64Array(6));
      expectClose(c, js);
      expect([c.count, c.changed, c.maxAbsDelta]).toEqual([js.count, js.changed, js.maxAbsDelta]);
      const [want, got] = [new Float32Array(b.length), new Float32Array(b.length)];
      writeDeltas(b, f, want);
      native!.deltas(b, f, got);
      expect(bytes(got).equals(bytes(want))).toBe(true);
    }
    const plain = emptySums();
    addChunkNative(native!, plain, plainBase, plainFinetuned, new Float64Array(6));
    expect([plain.baseSquares, plain.finetunedSquares, plain.dot, plain.deltaSquares].every(Number.isFinite)).toBe(true);
    expect(plain.changed).toBeGreaterThan(700_000);
    const zeros = emptySums();
    addChunkNative(native!, zeros, Float32Array.of(0, -0, 1), Float32Array.of(-0, 0, 1), new Float64Array(6));
    expect(zeros.changed).toBe(0);
  });

  it("merge a chunk by task arithmetic and TIES to the same doubles", () => {
    const base = Float32Array.from(awkward(100_000, 8).map((x) => (Number.isFinite(x) ? x : 0)));
    const vectors = [9, 10, 11].map((seed) => Float32Array.from(awkward(100_000, seed).map((x) => (Number.isFinite(x) ? x : 0))));
    const lambdas = [0.5, -1.25, 0.3];
    const thresholds = [0, 1e-3, 0.02];
    const [want, got] = [new Float64Array(100_000), new Float64Array(100_000)];
    taskArithmetic(base, vectors, lambdas, want);
    native!.taskArithmetic(base, vectors, Float64Array.from(lambdas), got);
    expect(bytes(got).equals(bytes(want))).toBe(true);
    ties(base, vectors, lambdas, thresholds, want);
    native!.ties(base, vectors, Float64Array.from(lambdas), Float64Array.from(thresholds), got);
    expect(bytes(got).equals(bytes(want))).toBe(true);
  });

  it("refuses typed arrays of the wrong type instead of reading past them", () => {
    expect(() => native!.chunkSums(new Float32Array(4), new Float32Array(4), new Float64Array(2))).toThrow(/lengths/);
    expect(() => native!.deltas(new Float32Array(4), new Float64Array(4) as unknown as Float32Array, new Float32Array(4))).toThrow(/wrong type/);
  });
});

describe.skipIf(noCompiler)("weights diff and merge with and without the kernels", () => {
  afterEach(() => useWeightKernels(undefined));

  it("give the same statistics and byte-identical files, in F32, F16 and BF16", () => {
    const dir = tempDir();
    const random = seededRandom(3);
    const tensors = (shift: number, dtype: DType) =>
      Object.fromEntries(
        ["model.layers.0.q.weight", "model.layers.1.q.weight", "lm_head.weight"].map((name, t) => [
          name,
          { dtype, shape: [37, 29 + t], values: Array.from({ length: 37 * (29 + t) }, (_, i) => (random() - 0.5) * 0.2 + (i % 3 === 0 ? shift * random() : 0)) },
        ]),
      );
    for (const dtype of ["F32", "F16", "BF16"] as DType[]) {
      const base = openCheckpoint(writeSafetensors(join(dir, `base-${dtype}.safetensors`), tensors(0, dtype)));
      const ft = openCheckpoint(writeSafetensors(join(dir, `ft-${dtype}.safetensors`), tensors(0.05, dtype)));
      const results = [undefined, native].map((kernels) => {
        useWeightKernels(kernels);
        const diff = diffCheckpoints(base, ft, { save: join(dir, `tv-${dtype}.safetensors`), chunkElements: 500 });
        const vector = openCheckpoint(diff.saved!);
        const merged: Record<string, string> = {};
        for (const method of ["task-arithmetic", "ties", "dare"] as const) {
          const options: MergeOptions = { method, tiesK: 30, dareP: 0.5, seed: 4, out: join(dir, `m-${dtype}-${method}.safetensors`), chunkElements: 500 };
          mergeCheckpoints(
            base,
            [
              { checkpoint: vector, lambda: 0.7 },
              { checkpoint: ft, lambda: -0.2 },
            ],
            options,
          );
          merged[method] = digest(options.out);
        }
        return { diff: { ...diff, saved: undefined }, delta: digest(diff.saved!), merged };
      });
      expectClose(results[1]!.diff, results[0]!.diff);
      expect(results[1]!.delta).toBe(results[0]!.delta);
      expect(results[1]!.merged).toEqual(results[0]!.merged);
    }
  });

  it("ALIGNBENCH_NATIVE=0 keeps the JavaScript path, without a notice", async () => {
    expect(await buildWeightKernels({ env: { ALIGNBENCH_NATIVE: "0" } })).toEqual({ unavailable: "turned off by ALIGNBENCH_NATIVE=0" });
    expect(await loadWeightKernels({ ALIGNBENCH_NATIVE: "0" })).toBeUndefined();
    const missing = await buildWeightKernels({ force: true, env: { ALIGNBENCH_NATIVE_DIR: tempDir(), CC: "/nonexistent/cc" } });
    expect(missing).toEqual({ unavailable: expect.stringMatching(/^no C compiler \(\/nonexistent\/cc\)/) });
  });
});
