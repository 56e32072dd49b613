import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { openCheckpoint, type Checkpoint } from "../../src/weights/checkpoint.js";
import { fromBf16 } from "../../src/weights/dtypes.js";
import { mergeCheckpoints, type MergeOptions } from "../../src/weights/merge.js";
import { topMagnitudeThreshold } from "../../src/weights/merge-methods.js";
import { readSafetensorsHeader } from "../../src/weights/safetensors.js";
import { parseVector } from "../../src/cli/commands/weights-merge.js";
import { tempDir } from "../helpers/run-folder.js";
import { writeSafetensors, writeSharded, type TestTensor } from "../helpers/safetensors-files.js";

// Merges of known vectors into known bases, read back from the written bytes: task arithmetic with λ, BF16 and
// F16 rounding of the sums, TIES and DARE on hand-made tensors, sharded output, and the refusals.

const defaults: Omit<MergeOptions, "out"> = { method: "task-arithmetic", tiesK: 20, dareP: 0.9, seed: 0 };

function file(tensors: Record<string, TestTensor>): Checkpoint {
  return openCheckpoint(writeSafetensors(join(tempDir(), "w.safetensors"), tensors));
}

/** A written tensor's raw elements: floats for F32, bit patterns for F16/BF16. */
function raw(path: string, name: string): number[] {
  const header = readSafetensorsHeader(path);
  const tensor = header.tensors.find((t) => t.name === name)!;
  const bytes = readFileSync(path).subarray(tensor.offset, tensor.offset + tensor.byteLength);
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += tensor.dtype === "F32" ? 4 : 2) out.push(tensor.dtype === "F32" ? bytes.readFloatLE(at) : bytes.readUInt16LE(at));
  return out;
}

function merge(base: Checkpoint, vectors: Array<[Checkpoint, number]>, options: Partial<MergeOptions> = {}): string {
  const out = join(tempDir(), "merged.safetensors");
  mergeCheckpoints(
    base,
    vectors.map(([checkpoint, lambda]) => ({ checkpoint, lambda })),
    { ...defaults, out, ...options },
  );
  return out;
}

describe("task arithmetic", () => {
  it("θ = θ₀ + Σ λ_i τ_i, rounded once to float32", () => {
    const base = file({ w: { shape: [2, 2], values: [1, 2, 3, 4] } });
    const out = merge(base, [
      [file({ w: { shape: [2, 2], values: [1, 0, -1, 0.5] } }), 0.6],
      [file({ w: { shape: [2, 2], values: [0, 2, 1, -1] } }), 0.4],
    ]);
    expect(raw(out, "w")).toEqual([1 + 0.6, 2 + 0.8, 3 - 0.6 + 0.4, 4 + 0.3 - 0.4].map(Math.fround));
    expect(JSON.parse(readSafetensorsHeader(out).metadata.alignbench_merge!)).toMatchObject({ method: "task-arithmetic", vectors: [{ lambda: 0.6 }, { lambda: 0.4 }] });
  });

  it("BF16 sums round to nearest even: ties, the double-rounding trap, overflow, NaN", () => {
    const max = fromBf16(0x7f7f);
    const base = file({ w: { dtype: "BF16", shape: [7], values: [1, 1, 1, max, Number.NaN, 1, 1] } });
    const tau1 = file({ w: { shape: [7], values: [2 ** -8, 3 * 2 ** -8, 2 ** -8, 2 ** 120, 1, -1, 2 ** -8] } });
    const tau2 = file({ w: { shape: [7], values: [0, 0, 2 ** -40, 0, 0, 0, -(2 ** -40)] } });
    const out = merge(base, [
      [tau1, 1],
      [tau2, 1],
    ]);
    // 1 + 2⁻⁸ ties to 0x3f80; 1 + 3·2⁻⁸ ties to 0x3f82; 1 + 2⁻⁸ + 2⁻⁴⁰ is above the tie (0x3f81), 1 + 2⁻⁸ − 2⁻⁴⁰
    // below it (0x3f80); max + 2¹²⁰ overflows to Infinity; NaN stays NaN; 1 − 1 = +0.
    expect(raw(out, "w").map((bits) => `0x${bits.toString(16)}`)).toEqual(["0x3f80", "0x3f82", "0x3f81", "0x7f80", "0x7fc0", "0x0", "0x3f80"]);
  });

  it("F16 sums round to nearest even", () => {
    const base = file({ w: { dtype: "F16", shape: [3], values: [1, 1, 65504] } });
    const out = merge(base, [
      [file({ w: { shape: [3], values: [2 ** -11, 2 ** -11, 16] } }), 1],
      [file({ w: { shape: [3], values: [0, 2 ** -40, 0] } }), 1],
    ]);
    expect(raw(out, "w")).toEqual([0x3c00, 0x3c01, 0x7c00]);
  });
});

describe("TIES", () => {
  // k = 60% of 5 entries: each vector keeps its 3 largest magnitudes (and ties at the threshold).
  //   τ1 = [ 3, −1,  2, 0.5, −4] → [ 3,  0,  2, 0, −4]
  //   τ2 = [−2, −3,  1, 0.1,  1] → [−2, −3,  1, 0,  1]  (two entries tie at the threshold 1: both kept)
  //   τ3 = [ 1,  2, −5, 0.2,  1] → [ 1,  2, −5, 0,  1]
  // elected signs (sums 2, −1, −2, 0, −2): +, −, −, none, −; disjoint means: (3+1)/2, −3, −5, 0, −4.
  const vectors = () => [
    [1, 3, -1, 2, 0.5, -4],
    [1, -2, -3, 1, 0.1, 1],
    [1, 1, 2, -5, 0.2, 1],
  ];
  const shaped = (values: number[]) => file({ w: { shape: [5], values: values.slice(1) } });

  it("trims, elects and averages as worked by hand, whatever the chunk size", () => {
    const base = file({ w: { shape: [5], values: [10, 10, 10, 10, 10] } });
    for (const chunkElements of [2, 1 << 20]) {
      const out = merge(
        base,
        vectors().map((v) => [shaped(v), 1] as [Checkpoint, number]),
        { method: "ties", tiesK: 60, chunkElements },
      );
      expect(raw(out, "w")).toEqual([12, 7, 5, 10, 6]);
    }
  });

  it("one λ for every vector scales the disjoint mean (the paper's θ₀ + λ·τ_m)", () => {
    const base = file({ w: { shape: [5], values: [0, 0, 0, 0, 0] } });
    const out = merge(
      base,
      vectors().map((v) => [shaped(v), 0.5] as [Checkpoint, number]),
      { method: "ties", tiesK: 60 },
    );
    expect(raw(out, "w")).toEqual([1, -1.5, -2.5, 0, -2]);
  });

  it("the threshold is the k-th largest magnitude, exactly, as sorting finds it", () => {
    const random = seededRandom(3);
    for (const [n, keep] of [
      [1000, 1],
      [1000, 200],
      [1000, 1000],
      [1000, 1500],
      [50_000, 10_000],
    ] as const) {
      // Few distinct magnitudes in part of it (ties), signs mixed, zeros and −0 included.
      const values = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? (i % 2 ? -0 : 0) : i % 5 === 0 ? 0.25 * (i % 2 ? -1 : 1) : (random() - 0.5) * 2 ** Math.floor(random() * 20 - 10)));
      const sorted = [...values].map(Math.abs).sort((a, b) => b - a);
      const threshold = topMagnitudeThreshold((visit) => {
        for (let start = 0; start < n; start += 333) visit(values.subarray(start, Math.min(n, start + 333)));
      }, keep);
      expect(threshold).toBe(keep >= n ? 0 : sorted[keep - 1]);
    }
  });
});

describe("DARE", () => {
  const n = 20_000;
  const base = () => file({ w: { shape: [n], values: Float32Array.from({ length: n }, (_, i) => i % 3) } });
  const tau = () => file({ w: { shape: [n], values: Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 4) } });

  it("each entry is dropped or rescaled by 1/(1−p); the dropped share is p; the mask is the seed's, whatever the chunk size", () => {
    const [b, t] = [base(), tau()];
    const first = raw(merge(b, [[t, 0.5]], { method: "dare", dareP: 0.75, seed: 42 }), "w");
    let dropped = 0;
    let nonzero = 0;
    for (let i = 0; i < n; i++) {
      const delta = ((i % 7) - 3) / 4;
      if (delta === 0) continue;
      nonzero++;
      const kept = Math.fround((i % 3) + (0.5 * delta) / 0.25);
      expect([i % 3, kept]).toContain(first[i]);
      if (first[i] === i % 3) dropped++;
    }
    // Binomial(nonzero, 0.75): 4 standard deviations either way.
    const sd = Math.sqrt(nonzero * 0.75 * 0.25);
    expect(Math.abs(dropped - 0.75 * nonzero)).toBeLessThan(4 * sd);
    expect(raw(merge(b, [[t, 0.5]], { method: "dare", dareP: 0.75, seed: 42, chunkElements: 999 }), "w")).toEqual(first);
    expect(raw(merge(b, [[t, 0.5]], { method: "dare", dareP: 0.75, seed: 43 }), "w")).not.toEqual(first);
  });

  it("with p = 0 it is task arithmetic", () => {
    const [b, t] = [base(), tau()];
    expect(raw(merge(b, [[t, 0.3]], { method: "dare", dareP: 0 }), "w")).toEqual(raw(merge(b, [[t, 0.3]]), "w"));
  });
});

describe("output in the base's format", () => {
  it("a sharded base gives the same shards, the index and the side files, in a folder", () => {
    const folder = writeSharded(join(tempDir(), "base"), [{ "model.layers.0.w": { dtype: "BF16", shape: [2], values: [1, 2] } }, { "lm_head.weight": { shape: [1], values: [3] } }]);
    writeFileSync(join(folder, "config.json"), '{"model_type": "llama"}');
    const vector = file({ "model.layers.0.w": { shape: [2], values: [0.5, 0.5] }, "lm_head.weight": { shape: [1], values: [-1] } });
    const out = join(tempDir(), "merged");
    const result = mergeCheckpoints(openCheckpoint(folder), [{ checkpoint: vector, lambda: 2 }], { ...defaults, out });
    for (const name of ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "config.json", "alignbench-merge.json"])
      expect(existsSync(join(out, name)), name).toBe(true);
    expect(result.files).toHaveLength(5);
    const merged = openCheckpoint(out);
    expect(merged.files).toHaveLength(2);
    expect(raw(join(out, "model-00001-of-00002.safetensors"), "model.layers.0.w").map(fromBf16)).toEqual([2, 3]);
    expect(raw(join(out, "model-00002-of-00002.safetensors"), "lm_head.weight")).toEqual([1]);
  });

  it("refuses mismatched vectors, an output over an input, and bad settings", () => {
    const base = file({ w: { shape: [2], values: [1, 2] } });
    expect(() => merge(base, [[file({ w: { shape: [1, 2], values: [1, 2] } }), 1]])).toThrow(/different shapes \(1\):\n {2}w: \[2\] in the base, \[1, 2\] in vector 1/);
    expect(() => mergeCheckpoints(base, [{ checkpoint: base, lambda: 1 }], { ...defaults, out: base.files[0]! })).toThrow(/would overwrite one of its inputs/);
    expect(() => merge(base, [[base, 1]], { method: "ties", tiesK: 0 })).toThrow(/--ties-k 0: must be a percentage above 0 and at most 100/);
    expect(() => merge(base, [[base, 1]], { method: "dare", dareP: 1 })).toThrow(/--dare-p 1: must be at least 0 and below 1/);
  });
});

describe("--vector FILE[:LAMBDA]", () => {
  it.each([
    ["tv.safetensors:0.6", { path: "tv.safetensors", lambda: 0.6 }],
    ["dir/tv.safetensors:-1.5e-1", { path: "dir/tv.safetensors", lambda: -0.15 }],
    ["tv.safetensors:.5", { path: "tv.safetensors", lambda: 0.5 }],
    ["tv.safetensors", { path: "tv.safetensors", lambda: 1 }],
    ["odd:name.safetensors", { path: "odd:name.safetensors", lambda: 1 }],
  ])("%s", (text, parsed) => expect(parseVector(text)).toEqual(parsed));
});
