import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { buildSelfContainedAddon, type NativeBuild, type SelfContainedAddon } from "../common/native-addon.js";

// The weight tools' arithmetic in C (native/weights-kernels.c), compiled at first use into the addon cache like
// the dense-logits addon, and the switch between it and the JavaScript twins in diff.ts, merge-methods.ts and
// dtypes.ts. Both give the same bits (test/unit/weights-kernels.test.ts); C is only faster (bench/weights.mjs).
// Without a compiler, or with ALIGNBENCH_NATIVE=0, everything runs in JavaScript, after one notice.

/** The addon's functions; each reads and writes the typed arrays it is given in place. */
export interface WeightKernels {
  /** sums ← [changed, Σb², Σf², Σb·f, ΣΔ², max|Δ|] over the chunk, max|Δ| starting from sums[5]. */
  chunkSums(base: Float32Array, finetuned: Float32Array, sums: Float64Array): void;
  deltas(base: Float32Array, finetuned: Float32Array, delta: Float32Array): void;
  taskArithmetic(base: Float32Array, vectors: Float32Array[], lambdas: Float64Array, out: Float64Array): void;
  ties(base: Float32Array, vectors: Float32Array[], lambdas: Float64Array, thresholds: Float64Array, out: Float64Array): void;
  /** kind 1 F16, 2 BF16. */
  decode(kind: number, halves: Uint16Array, out: Float32Array): void;
  /** kind 0 F32, 1 F16, 2 BF16; out holds count × 4 or count × 2 bytes. */
  encode(kind: number, values: Float64Array, out: Uint8Array): void;
}

// Portable flags only (the cache may be shared between machines): -O3 auto-vectorises the plain loops without
// -march; no fast-math, and no contraction into fused multiply-adds, so each sum is rounded as JavaScript rounds it.
export const WEIGHT_KERNELS_ADDON: SelfContainedAddon = {
  name: "weights-kernels.node",
  folder: fileURLToPath(new URL("../../src/weights/native/", import.meta.url)),
  sources: ["weights-kernels.c"],
  flags: ["-O3", "-std=c11", "-ffp-contract=off", "-fno-fast-math"],
};

let active: WeightKernels | undefined;
let noticeShown = false;

/** The kernels in use: the addon once loadWeightKernels found it, else undefined (JavaScript). */
export function weightKernels(): WeightKernels | undefined {
  return active;
}

/** Chooses the path explicitly (tests compare both). */
export function useWeightKernels(kernels: WeightKernels | undefined): void {
  active = kernels;
}

export async function buildWeightKernels(options: { force?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<NativeBuild> {
  return buildSelfContainedAddon(WEIGHT_KERNELS_ADDON, options);
}

/**
 * Builds (first time) or finds the addon and makes it the path for this process; undefined, after one notice
 * on stderr (none when ALIGNBENCH_NATIVE=0 asked for it), when it cannot be had.
 */
export async function loadWeightKernels(env: NodeJS.ProcessEnv = process.env): Promise<WeightKernels | undefined> {
  if (active) return active;
  const build = await buildWeightKernels({ env });
  let reason: string;
  if ("unavailable" in build) reason = build.unavailable;
  else {
    try {
      active = createRequire(import.meta.url)(build.path) as WeightKernels;
      return active;
    } catch (error) {
      reason = `the compiled addon ${build.path} does not load: ${(error as Error).message}`;
    }
  }
  if (!noticeShown && env.ALIGNBENCH_NATIVE !== "0") {
    noticeShown = true;
    process.stderr.write(
      `alignbench: the weight tools run in JavaScript, several times slower (the same outputs): their C kernels are not available (${reason.split("\n")[0]}). Run \`npm run build:native\` in alignbench's folder to see the whole message.\n`,
    );
  }
  return undefined;
}
