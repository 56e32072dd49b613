import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/weights/checkpoint.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { TensorReader } from "../../src/weights/tensor-reader.js";
import { runCli } from "../helpers/cli.js";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";

// `weights diff` and `weights merge` from the command line on random-weight llama GGUFs (F32 and BF16), and the
// merged file run through llama.cpp at once: the base plus the saved task vector is the fine-tuned model.

const hasLibrary = needs("llama");
const SHAPE = { dim: 32, layers: 2, heads: 4, ffn: 64, vocabPieces: 200, seed: 5 };
let dir = "";
beforeAll(() => {
  dir = tempDir();
  for (const weightType of ["F32", "BF16"] as const) {
    writeRandomLlama(join(dir, `base-${weightType}.gguf`), { ...SHAPE, weightType });
    writeRandomLlama(join(dir, `ft-${weightType}.gguf`), { ...SHAPE, weightType, perturb: { epsilon: 0.02, seed: 9 } });
  }
});
afterAll(() => disposeLocalModels());

/** Every tensor's values, widened to float32, in file order. */
function allValues(path: string): Map<string, Float32Array> {
  const checkpoint = openCheckpoint(path);
  const reader = new TensorReader();
  const out = new Map(checkpoint.tensors.map((entry) => [entry.name, Float32Array.from(reader.read(entry, 0, entry.count))]));
  reader.close();
  return out;
}

describe("weights diff", () => {
  it("reports every layer, saves the task vector, and writes JSON and an HTML page", async () => {
    const json = join(dir, "diff.json");
    const result = await runCli([
      "weights",
      "diff",
      "--base",
      join(dir, "base-F32.gguf"),
      "--finetuned",
      join(dir, "ft-F32.gguf"),
      "--save",
      join(dir, "tv.safetensors"),
      "--json",
      json,
      "--html",
      join(dir, "diff.html"),
      "--top",
      "3",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/most changed layers \(by ‖Δ‖\/‖W‖\):/);
    const diff = JSON.parse(readFileSync(json, "utf8"));
    expect(diff.layers.map((layer: { name: string }) => layer.name)).toEqual(["token_embd.weight", "blk.0", "blk.1", "output_norm.weight", "output.weight"]);
    // The norm weights are ones in both models: unchanged; every random weight moved.
    const norm = diff.layers.find((layer: { name: string }) => layer.name === "output_norm.weight");
    expect([norm.deltaNorm, norm.changedShare, norm.cosine]).toEqual([0, 0, 1]);
    expect(diff.tensors.find((t: { name: string }) => t.name === "blk.0.attn_q.weight").changedShare).toBe(1);
    expect(readFileSync(join(dir, "diff.html"), "utf8")).toContain("<svg");
    // The saved vector is ft − base, element by element.
    const [base, ft, tv] = [allValues(join(dir, "base-F32.gguf")), allValues(join(dir, "ft-F32.gguf")), allValues(join(dir, "tv.safetensors"))];
    const q = "blk.1.ffn_down.weight";
    expect([...tv.get(q)!].slice(0, 50)).toEqual([...ft.get(q)!].slice(0, 50).map((value, i) => Math.fround(value - base.get(q)![i]!)));
  });

  it("names mismatched tensors, with exit code 2 and no stack trace", async () => {
    writeRandomLlama(join(dir, "other.gguf"), { ...SHAPE, layers: 3 });
    const result = await runCli(["weights", "diff", "--base", join(dir, "base-F32.gguf"), "--finetuned", join(dir, "other.gguf")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/only in the fine-tuned model \(9\):\n {2}blk\.2\.attn_norm\.weight/);
    expect(result.stderr).not.toMatch(/at .*\.js/);
  });
});

describe("weights merge", () => {
  it("a λ of 0 gives the base byte for byte (header, tokenizer and padding kept)", async () => {
    const out = join(dir, "zero.gguf");
    const result = await runCli(["weights", "merge", "--base", join(dir, "base-F32.gguf"), "--vector", `${join(dir, "tv.safetensors")}:0`, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(out).equals(readFileSync(join(dir, "base-F32.gguf")))).toBe(true);
  });

  it.each(["F32", "BF16"])("base + the task vector of %s models is the fine-tuned model, and llama.cpp runs it at once", async (weightType) => {
    const tv = join(dir, `tv-${weightType}.safetensors`);
    const merged = join(dir, `merged-${weightType}.gguf`);
    expect((await runCli(["weights", "diff", "--base", join(dir, `base-${weightType}.gguf`), "--finetuned", join(dir, `ft-${weightType}.gguf`), "--save", tv])).code).toBe(0);
    const result = await runCli(["weights", "merge", "--base", join(dir, `base-${weightType}.gguf`), "--vector", `${tv}:1`, "--out", merged]);
    expect(result.code, result.stderr).toBe(0);
    // The vector holds float32(ft − base); the merge rounds base + that to the base's type once. For BF16 weights
    // the difference is exact in float32, so the merge gives ft back bit for bit.
    const [base, ft, got] = [allValues(join(dir, `base-${weightType}.gguf`)), allValues(join(dir, `ft-${weightType}.gguf`)), allValues(merged)];
    for (const [name, values] of ft) {
      const want = weightType === "BF16" ? values : values.map((value, i) => base.get(name)![i]! + Math.fround(value - base.get(name)![i]!));
      expect(got.get(name), name).toEqual(want);
    }
    if (!hasLibrary) return;
    const dataset = join(dir, `prompts-${weightType}.jsonl`);
    writeJsonl(dataset, [{ id: "a", prompt: "Once upon a time" }]);
    const run = await runCli([
      "run",
      "--models",
      `llamacpp:${merged}`,
      "--dataset",
      dataset,
      "--output-dir",
      join(dir, "runs"),
      "--run-id",
      `merged-${weightType}`,
      "--max-tokens",
      "6",
      "--temperature",
      "0",
      "--no-preflight",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(readPartials(join(dir, "runs", `merged-${weightType}`))[0]!.raw_candidate!.length).toBeGreaterThan(0);
    // And the merged model scores text as the fine-tuned one does.
    const model = (file: string) => new ModelRegistry({ env: {}, providers: { llamacpp: { threads: 1, gpu: false } } }).resolve(`llamacpp:${file}`).model;
    const [a, b] = await Promise.all([model(merged).loglikelihood!("Once upon", " a time"), model(join(dir, `ft-${weightType}.gguf`)).loglikelihood!("Once upon", " a time")]);
    expect(a.logprob).toBeCloseTo(b.logprob, 6);
  });
});
