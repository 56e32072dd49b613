import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import type { LanguageModel } from "../../src/providers/types.js";
import { runTextDrift } from "../../src/runner/plans/drift-text.js";
import { driftContext } from "../helpers/drift-context.js";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { needs } from "../helpers/requirements.js";
import { tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// Fidelity Loss on real llama.cpp models written by gguf-writer: a random base, copies of it whose every
// weight moved by ε × noise (same seed, so the same base weights), and a model with another vocabulary.

const hasLibrary = needs("llama");
const SHAPE = { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 400, seed: 7 };
const EPSILONS = [0.003, 0.01, 0.03];
const TEXTS = ["the cat sat on the mat and ate", "a quiet river ran past old stone", "she wrote letters every spring"];

const files: Record<string, string> = {};
beforeAll(() => {
  const dir = tempDir();
  files.base = join(dir, "base.gguf");
  writeRandomLlama(files.base, SHAPE);
  for (const epsilon of EPSILONS) {
    files[String(epsilon)] = join(dir, `ft-${epsilon}.gguf`);
    writeRandomLlama(files[String(epsilon)]!, { ...SHAPE, perturb: { epsilon, seed: 99 } });
  }
  files.other = join(dir, "other-vocabulary.gguf");
  writeRandomLlama(files.other, { ...SHAPE, vocabPieces: 420 });
});
afterAll(() => disposeLocalModels());

const registry = () => new ModelRegistry({ env: {}, providers: { llamacpp: { threads: 2, gpu: false } } });
const model = (name: string): LanguageModel => registry().resolve(`llamacpp:${files[name]}`).model;
/** The model without the native statistics: Fidelity Loss then reads its dense log-probabilities (tokenLogprobs). */
const providerPath = (m: LanguageModel) => Object.assign(Object.create(m) as LanguageModel, { fidelityStatistics: undefined });

async function fidelity(target: LanguageModel, base: LanguageModel, text: string, options: Record<string, unknown> = {}) {
  const result = await runTextDrift(driftContext(target, base, text, options));
  return result.scores!.fidelity!;
}

/** KL, TV, changes, accuracies and log-likelihoods straight from the two models' dense rows, in double, one position at a time. */
async function direct(target: LanguageModel, base: LanguageModel, text: string) {
  const [[t], [b]] = [await target.tokenLogprobs!([text]), await base.tokenLogprobs!([text])];
  const vocab = t!.vocabSize;
  const sums = { kl: 0, tv: 0, changed: 0, hitT: 0, hitB: 0, llT: 0, llB: 0, n: t!.tokens.length - 1 };
  const argmax = (row: number[]) => row.indexOf(Math.max(...row));
  for (let i = 0; i + 1 < t!.tokens.length; i++) {
    const rowT = Array.from(t!.logprobs.subarray(i * vocab, (i + 1) * vocab));
    const rowB = Array.from(b!.logprobs.subarray(i * vocab, (i + 1) * vocab));
    sums.kl += rowT.reduce((sum, lt, v) => sum + Math.exp(lt) * (lt - rowB[v]!), 0);
    sums.tv += rowT.reduce((sum, lt, v) => sum + Math.abs(Math.exp(lt) - Math.exp(rowB[v]!)), 0) / 2;
    const next = t!.tokens[i + 1]!;
    if (argmax(rowT) !== argmax(rowB)) sums.changed++;
    if (argmax(rowT) === next) sums.hitT++;
    if (argmax(rowB) === next) sums.hitB++;
    sums.llT += rowT[next]!;
    sums.llB += rowB[next]!;
  }
  return sums;
}

describe.skipIf(!hasLibrary)("Fidelity Loss on llama.cpp models", () => {
  it("is exactly 0 for a model against itself, with no greedy token changed", async () => {
    for (const text of TEXTS) {
      const score = await fidelity(model("base"), model("base"), text);
      expect(score.value).toBe(0);
      expect(score.metrics).toMatchObject({ kl_sum: 0, changed_share: 0, tv_mean: 0 });
      expect(score.metrics!.acc_target).toBe(score.metrics!.acc_base);
      expect(score.metrics!.ll_target).toBe(score.metrics!.ll_base);
      expect(score.data).toMatchObject({ approximate: false });
    }
  });

  it("grows with the perturbation of the fine-tuned copy", async () => {
    const fl: number[] = [];
    for (const epsilon of EPSILONS) {
      let sum = 0;
      for (const text of TEXTS) sum += (await fidelity(model(String(epsilon)), model("base"), text)).value!;
      fl.push(sum / TEXTS.length);
    }
    expect(fl[0]).toBeGreaterThan(0);
    expect(fl[1]).toBeGreaterThan(fl[0]!);
    expect(fl[2]).toBeGreaterThan(fl[1]!);
  });

  // Both exact paths: the provider's dense log-probabilities (float32 rows, so equal to the direct sums to
  // rounding), and the native addon's statistics from the logits in double (equal to within the float32
  // rounding of the provider's rows: 6 digits).
  it.each([
    ["provider's dense log-probabilities", providerPath, 10],
    ["native statistics", (m: LanguageModel) => m, 6],
  ])("equals a direct computation from the two models' dense log-probabilities (%s)", async (_path, via, digits) => {
    const target = model("0.03");
    const base = model("base");
    for (const text of TEXTS) {
      const score = await fidelity(via(target), base, text);
      const want = await direct(target, base, text);
      expect(score.metrics!.tokens).toBe(want.n);
      expect(score.value).toBeCloseTo(want.kl / want.n, digits);
      expect(score.metrics!.kl_sum).toBeCloseTo(want.kl, digits);
      expect(score.metrics!.tv_mean).toBeCloseTo(want.tv / want.n, digits);
      expect(score.metrics!.changed_share).toBe(want.changed / want.n);
      expect(score.metrics!.acc_target).toBe(want.hitT / want.n);
      expect(score.metrics!.acc_base).toBe(want.hitB / want.n);
      expect(score.metrics!.ll_target).toBeCloseTo(want.llT / want.n, digits);
      expect(score.metrics!.ll_base).toBeCloseTo(want.llB / want.n, digits);
      const top = score.data!.top_kl as Array<{ position: number; token: string; kl: number; context: string }>;
      expect(top).toHaveLength(5);
      expect(top[0]!.kl).toBeGreaterThanOrEqual(top[4]!.kl);
      expect(text).toContain(top[0]!.token.trim());
    }
  });

  // Token texts collide in this vocabulary (its 256 byte tokens print as partial UTF-8), and the top-k path
  // matches tokens by text, so even every token listed is a coarser partition: a lower bound, with no tail.
  it("gives a lower bound on the top-k path, with no unseen mass when every token is listed", async () => {
    const target = model("0.03");
    const base = model("base");
    // The same models with their dense rows hidden: runTextDrift falls back to tokenDistributions.
    const hide = (m: LanguageModel) => Object.assign(Object.create(m) as LanguageModel, { tokenLogprobs: undefined });
    const text = TEXTS[0]!;
    const exact = await fidelity(providerPath(target), base, text);
    const approx = await fidelity(hide(target), hide(base), text, { top_k: 100000 });
    expect(approx.data).toMatchObject({ approximate: true, top_k: 100000 });
    expect(approx.data!.bound as number).toBeLessThan(1e-6);
    expect(approx.value!).toBeGreaterThan(0);
    expect(approx.value!).toBeLessThanOrEqual(exact.value! + 1e-9);
    expect(approx.metrics!.tokens).toBe(exact.metrics!.tokens);
    expect(approx.metrics!.ll_target).toBeCloseTo(exact.metrics!.ll_target!, 10);
    expect(approx.metrics!.ll_base).toBeCloseTo(exact.metrics!.ll_base!, 10);
    // A small k sees less: never more than the exact value (the data-processing inequality).
    const small = await fidelity(hide(target), hide(base), text, { top_k: 5 });
    expect(small.value!).toBeLessThanOrEqual(exact.value! + 1e-9);
    expect(small.data!.bound as number).toBeGreaterThan(0);
  });

  it("cuts long texts to max_tokens_per_text, with a note", async () => {
    const text = TEXTS.join(" ");
    const score = await fidelity(model("0.01"), model("base"), text, { max_tokens_per_text: 6 });
    // BOS then at most 6 tokens: at most 6 scored positions.
    expect(score.metrics!.tokens).toBeLessThanOrEqual(6);
    expect(score.metrics!.tokens).toBeGreaterThanOrEqual(4);
    expect(score.data!.truncated).toMatchObject({ kept: 6, note: expect.stringMatching(/max_tokens_per_text/) });
    await expect(fidelity(model("0.01"), model("base"), text, { max_tokens_per_text: 1 })).rejects.toThrow(/at least 2/);
  });

  it("refuses models that do not share a vocabulary, naming both", async () => {
    const error = await runTextDrift(driftContext(model("other"), model("base"), TEXTS[0]!)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(files.other!);
    expect((error as Error).message).toContain(files.base!);
    expect((error as Error).message).toMatch(/do not share a vocabulary/);
  });
});

// The tiny real model (Karpathy's stories260K, in ../shared): a trained vocabulary and weights.
const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
describe.skipIf(!hasLibrary || !existsSync(STORIES))("Fidelity Loss on stories260K", () => {
  it("is 0 against itself, predicts its own kind of text, and refuses a model of another vocabulary", async () => {
    const stories = () => registry().resolve(`llamacpp:${STORIES}`).model;
    const score = await fidelity(stories(), stories(), "Once upon a time, there was a little girl named Lily. She loved to play outside.");
    expect(score.value).toBe(0);
    expect(score.metrics!.changed_share).toBe(0);
    // A trained model predicts its own kind of text: its greedy accuracy is far above chance (1/512).
    expect(score.metrics!.acc_target!).toBeGreaterThan(0.2);
    await expect(runTextDrift(driftContext(stories(), model("base"), "Once upon a time"))).rejects.toThrow(/do not share a vocabulary/);
  });
});
