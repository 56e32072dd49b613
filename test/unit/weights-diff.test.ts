import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/weights/checkpoint.js";
import { diffCheckpoints, layerOf } from "../../src/weights/diff.js";
import { diffHtml } from "../../src/weights/diff-html.js";
import { readSafetensorsHeader } from "../../src/weights/safetensors.js";
import { writeGguf } from "../helpers/gguf-writer.js";
import { tempDir } from "../helpers/run-folder.js";
import { writeSafetensors, writeSharded } from "../helpers/safetensors-files.js";

// Task-vector statistics: against numpy on the published-layout fixture, against hand-worked values, across
// chunk sizes and shardings, on GGUF files, and the errors for mismatched or quantized checkpoints.

const FIXTURES = fileURLToPath(new URL("../fixtures/weights/", import.meta.url));

describe("statistics", () => {
  it("equal numpy's on the published-layout pair (F32, F16 and BF16 tensors)", () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, "published-expected.json"), "utf8")) as Record<string, Record<string, number>>;
    const result = diffCheckpoints(openCheckpoint(join(FIXTURES, "published-base.safetensors")), openCheckpoint(join(FIXTURES, "published-ft.safetensors")));
    for (const tensor of result.tensors) {
      const want = expected[tensor.name]!;
      expect(tensor.deltaNorm).toBeCloseTo(want.delta_norm!, 12);
      expect(tensor.relative!).toBeCloseTo(want.relative!, 12);
      expect(tensor.cosine!).toBeCloseTo(want.cosine!, 12);
      expect(tensor.changedShare).toBeCloseTo(want.changed_share!, 12);
    }
  });

  it("equal hand-worked values, per tensor and per layer, whatever the chunk size", () => {
    const folder = tempDir();
    const base = writeSafetensors(join(folder, "base.safetensors"), {
      "model.layers.0.a": { shape: [2], values: [3, 4] },
      "model.layers.0.b": { shape: [3], values: [0, 0, 12] },
      "model.layers.1.a": { shape: [4], values: [1, 0, 0, 0] },
      "model.norm.weight": { shape: [1], values: [2] },
    });
    const ft = writeSafetensors(join(folder, "ft.safetensors"), {
      "model.layers.0.a": { shape: [2], values: [6, 8] },
      "model.layers.0.b": { shape: [3], values: [0, 0, 12] },
      "model.layers.1.a": { shape: [4], values: [1, 1, 0, 0] },
      "model.norm.weight": { shape: [1], values: [-2] },
    });
    for (const chunkElements of [1, 2, 1 << 20]) {
      const result = diffCheckpoints(openCheckpoint(base), openCheckpoint(ft), { chunkElements });
      const [a0, b0, a1, norm] = result.tensors;
      // Δ = [3, 4]: ‖Δ‖ = 5 = ‖W‖; ft = 2·base, so the cosine is 1; both entries changed.
      expect([a0!.deltaNorm, a0!.relative, a0!.cosine, a0!.changedShare]).toEqual([5, 1, 1, 1]);
      expect([b0!.deltaNorm, b0!.relative, b0!.cosine, b0!.changedShare]).toEqual([0, 0, 1, 0]);
      // Δ = e₂: ‖Δ‖ = 1, ‖W‖ = 1, cos = 1/(1·√2), one entry of four changed.
      expect(a1!.deltaNorm).toBe(1);
      expect(a1!.cosine!).toBeCloseTo(Math.SQRT1_2, 15);
      expect(a1!.changedShare).toBe(0.25);
      // A sign flip: ‖Δ‖ = 4 = 2‖W‖, cos = −1.
      expect([norm!.deltaNorm, norm!.relative, norm!.cosine, norm!.maxAbsDelta]).toEqual([4, 2, -1, 4]);
      // Layer 0 pools its two tensors: ‖Δ‖ = 5, ‖W‖ = √(25 + 144) = 13, cos = (18 + 32 + 144)/(13·√244).
      const layer0 = result.layers.find((layer) => layer.name === "model.layers.0")!;
      expect(layer0.deltaNorm).toBe(5);
      expect(layer0.relative!).toBeCloseTo(5 / 13, 15);
      expect(layer0.cosine!).toBeCloseTo(194 / (13 * Math.sqrt(244)), 15);
      expect(layer0.changedShare).toBe(2 / 5);
      expect(result.layers.map((layer) => layer.name)).toEqual(["model.layers.0", "model.layers.1", "model.norm.weight"]);
      expect(result.mostChanged).toEqual(["model.norm.weight", "model.layers.1", "model.layers.0"]);
      // All: ‖Δ‖² = 25 + 1 + 16, ‖W‖² = 169 + 1 + 4.
      expect(result.total.deltaNorm).toBeCloseTo(Math.sqrt(42), 14);
      expect(result.total.relative!).toBeCloseTo(Math.sqrt(42 / 174), 14);
      expect(result.total.parameters).toBe(10);
    }
  });

  it("a sharded pair gives the same numbers as single files, and --save writes Δ as F32", () => {
    const folder = tempDir();
    const tensors = (shift: number) => ({
      "model.layers.0.w": { dtype: "BF16" as const, shape: [2, 2], values: [1, 2, 3, 4 + shift] },
      "lm_head.weight": { dtype: "F16" as const, shape: [3], values: [0.5, -0.5 - shift, 1] },
    });
    const single = diffCheckpoints(openCheckpoint(writeSafetensors(join(folder, "b.safetensors"), tensors(0))), openCheckpoint(writeSafetensors(join(folder, "f.safetensors"), tensors(0.25))));
    const baseFolder = join(folder, "base");
    const ftFolder = join(folder, "ft");
    for (const [target, shift] of [
      [baseFolder, 0],
      [ftFolder, 0.25],
    ] as const) {
      const all = tensors(shift);
      writeSharded(target, [{ "model.layers.0.w": all["model.layers.0.w"] }, { "lm_head.weight": all["lm_head.weight"] }]);
    }
    const save = join(folder, "tv.safetensors");
    const sharded = diffCheckpoints(openCheckpoint(baseFolder), openCheckpoint(ftFolder), { save });
    expect(sharded.tensors.map((t) => [t.name, t.deltaNorm])).toEqual(single.tensors.map((t) => [t.name, t.deltaNorm]));
    expect(sharded.tensors.map((t) => t.deltaNorm)).toEqual([0.25, 0.25]);
    const header = readSafetensorsHeader(save);
    expect(header.metadata.alignbench).toBe("task vector: finetuned - base");
    expect(header.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ["model.layers.0.w", "F32", [2, 2]],
      ["lm_head.weight", "F32", [3]],
    ]);
    const data = readFileSync(save).subarray(header.tensors[0]!.offset);
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => data.readFloatLE(i * 4))).toEqual([0, 0, 0, 0.25, 0, -0.25, 0]);
  });
});

describe("layers", () => {
  it.each([
    ["model.layers.12.self_attn.q_proj.weight", "model.layers.12"],
    ["transformer.h.3.attn.c_attn.weight", "transformer.h.3"],
    ["blk.0.attn_q.weight", "blk.0"],
    ["model.embed_tokens.weight", "model.embed_tokens.weight"],
    ["token_embd.weight", "token_embd.weight"],
  ])("%s is in %s", (name, layer) => expect(layerOf(name)).toBe(layer));
});

describe("GGUF", () => {
  it("reads F32, F16 and BF16 tensors with row-major shapes and measures their change", () => {
    const folder = tempDir();
    const write = (file: string, shift: number) =>
      writeGguf(join(folder, file), { "general.architecture": { type: "string", value: "llama" }, "tokenizer.ggml.tokens": { type: "strings", value: ["a", "b"] } }, [
        { name: "blk.0.attn_q.weight", dims: [3, 2], fill: (out) => out.set([1, 2, 3, 4, 5, 6 + shift]) },
        { name: "blk.0.attn_k.weight", dims: [2], type: "F16", fill: (out) => out.set([0.5, 1 + shift]) },
        { name: "output.weight", dims: [2, 2], type: "BF16", fill: (out) => out.set([1, 0, 0, 1 - shift]) },
      ]);
    write("base.gguf", 0);
    write("ft.gguf", 1);
    const base = openCheckpoint(join(folder, "base.gguf"));
    expect(base.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ["blk.0.attn_q.weight", "F32", [2, 3]],
      ["blk.0.attn_k.weight", "F16", [2]],
      ["output.weight", "BF16", [2, 2]],
    ]);
    const result = diffCheckpoints(base, openCheckpoint(join(folder, "ft.gguf")));
    expect(result.tensors.map((t) => t.deltaNorm)).toEqual([1, 1, 1]);
    expect(result.layers.map((l) => [l.name, l.deltaNorm])).toEqual([
      ["blk.0", Math.SQRT2],
      ["output.weight", 1],
    ]);
    // output: base = identity, ft = [[1, 0], [0, 0]]: cos = 1/(√2·1).
    expect(result.tensors[2]!.cosine!).toBeCloseTo(Math.SQRT1_2, 15);
  });

  it("reads a header of several megabytes (a large tokenizer) in growing pieces", () => {
    const file = join(tempDir(), "big.gguf");
    const tokens = Array.from({ length: 150_000 }, (_, i) => `token-${i}-${"x".repeat(i % 20)}`);
    writeGguf(file, { "tokenizer.ggml.tokens": { type: "strings", value: tokens } }, [{ name: "w", dims: [3], fill: (out) => out.set([1, 2, 3]) }]);
    const checkpoint = openCheckpoint(file);
    expect(checkpoint.ggufDataStart! % 32).toBe(0);
    expect(checkpoint.ggufDataStart!).toBeGreaterThan(3_000_000);
    expect(diffCheckpoints(checkpoint, checkpoint).tensors[0]!.baseNorm).toBeCloseTo(Math.sqrt(14), 15);
  });

  it("refuses quantized tensors by type name", () => {
    const file = join(tempDir(), "q.gguf");
    writeGguf(file, { "general.architecture": { type: "string", value: "llama" } }, [
      { name: "token_embd.weight", dims: [256, 2], type: { ggml: 12, bytes: 288 }, fill: () => {} },
      { name: "output_norm.weight", dims: [256], fill: (out) => out.fill(1) },
    ]);
    expect(() => openCheckpoint(file)).toThrow(
      /q\.gguf: 1 of 2 tensors are not F32, F16 or BF16 \(Q4_K × 1; the first is token_embd\.weight, Q4_K\): task vectors and merges need unquantized weights/,
    );
  });
});

describe("mismatched checkpoints", () => {
  it("lists the names only on one side and the shapes that differ", () => {
    const folder = tempDir();
    const base = writeSafetensors(join(folder, "base.safetensors"), { shared: { shape: [2, 2], values: [1, 2, 3, 4] }, gone: { shape: [1], values: [1] }, same: { shape: [1], values: [1] } });
    const ft = writeSafetensors(join(folder, "ft.safetensors"), { shared: { shape: [4], values: [1, 2, 3, 4] }, added: { shape: [1], values: [1] }, same: { shape: [1], values: [1] } });
    expect(() => diffCheckpoints(openCheckpoint(base), openCheckpoint(ft))).toThrow(
      /do not hold the same tensors:\nonly in the base \(1\):\n {2}gone\nonly in the fine-tuned model \(1\):\n {2}added\ndifferent shapes \(1\):\n {2}shared: \[2, 2\] in the base, \[4\] in the fine-tuned model/,
    );
  });
});

describe("the HTML page", () => {
  it("charts every layer and escapes names", () => {
    const folder = tempDir();
    const base = writeSafetensors(join(folder, "b.safetensors"), { "<script>x</script>": { shape: [1], values: [1] }, "layers.0.w": { shape: [1], values: [2] } });
    const ft = writeSafetensors(join(folder, "f.safetensors"), { "<script>x</script>": { shape: [1], values: [2] }, "layers.0.w": { shape: [1], values: [2] } });
    const html = diffHtml(diffCheckpoints(openCheckpoint(base), openCheckpoint(ft)));
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;x&#60;/script&#62;");
    expect(html.match(/<rect /g)).toHaveLength(2);
  });
});
