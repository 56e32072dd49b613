import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logprobRow, logSumExp } from "../../src/providers/dense-logprobs.js";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry, type ProviderSettings } from "../../src/providers/registry.js";
import type { LanguageModel, LoglikelihoodResult } from "../../src/providers/types.js";
import { sameVocabulary } from "../../src/providers/vocabulary.js";
import { needs } from "../helpers/requirements.js";
import { tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// The provider contract on local GGUF models: tokenize with a vocabulary fingerprint, dense next-token
// log-probabilities, batched log-likelihoods and dispose. Needs node-llama-cpp; the real models of ../shared
// add checks when present.

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const SPM_VOCAB = join(SHARED_DATASETS, "models/ggml-vocab-llama-spm.gguf");
const hasLibrary = needs("llama");

let TINY = "";
let TINY_SAME_VOCAB = "";
let TINY_OTHER_VOCAB = "";
beforeAll(() => {
  const dir = tempDir();
  TINY = join(dir, "tiny.gguf");
  TINY_SAME_VOCAB = join(dir, "tiny-other-weights.gguf");
  TINY_OTHER_VOCAB = join(dir, "tiny-other-vocab.gguf");
  writeRandomLlama(TINY, { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 300, seed: 7 });
  // Other weights and shape, the same vocabulary: what a fine-tune of TINY looks like to the tokenizer.
  writeRandomLlama(TINY_SAME_VOCAB, { dim: 32, layers: 1, heads: 2, ffn: 64, vocabPieces: 300, seed: 99 });
  writeRandomLlama(TINY_OTHER_VOCAB, { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 200, seed: 7 });
});
afterAll(() => disposeLocalModels());

function local(file: string, providers: ProviderSettings = {}): LanguageModel {
  return new ModelRegistry({ env: {}, providers: { llamacpp: { threads: 1, gpu: false, ...providers } } }).resolve(`llamacpp:${file}`).model;
}

const TEXTS = ["Once upon a time, there was a little girl named Lily.", "The cat sat", "One day, a bird flew over the big tree and sang a happy song to the sun."];

describe.skipIf(!hasLibrary)("provider contract: local GGUF models", () => {
  it("tokenizes with a vocabulary fingerprint: same vocabulary, same fingerprint; another vocabulary, another one", async () => {
    const tiny = local(TINY);
    const sibling = local(TINY_SAME_VOCAB);
    const other = local(TINY_OTHER_VOCAB);
    const result = await tiny.tokenize!("Once upon a time");
    expect(result.ids.length).toBeGreaterThan(0);
    expect(result.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect((await sibling.tokenize!("Once upon a time")).fingerprint).toBe(result.fingerprint);
    expect(await sameVocabulary(tiny, sibling)).toBe(true);
    expect(await sameVocabulary(tiny, other)).toBe(false);
    // The ids tokenize gives are the ones the dense log-probabilities score (after the beginning-of-sequence token).
    const [dense] = await tiny.tokenLogprobs!(["Once upon a time"]);
    expect([...dense!.tokens.slice(1)]).toEqual([...result.ids]);
    await Promise.all([tiny.dispose!(), sibling.dispose!(), other.dispose!()]);
  });

  it.skipIf(!existsSync(SPM_VOCAB))("tokenizes like llama.cpp's own tokenizer test on the 32,000-token Llama vocabulary (no weights needed)", async () => {
    const vocab = local(SPM_VOCAB);
    const inputs = readFileSync(`${SPM_VOCAB}.inp`, "utf8").split("\n__ggml_vocab_test__\n");
    const expected = readFileSync(`${SPM_VOCAB}.out`, "utf8").split("\n");
    let compared = 0;
    for (const [index, text] of inputs.entries()) {
      if (index === inputs.length - 1 && text === "") break; // the file ends with a separator
      const ids = [...(await vocab.tokenize!(text)).ids];
      expect(ids, JSON.stringify(text)).toEqual(expected[index]!.trim() === "" ? [] : expected[index]!.trim().split(/\s+/).map(Number));
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
    const stories = existsSync(STORIES) ? local(STORIES) : undefined;
    if (stories) {
      // Both are llama SentencePiece vocabularies, of 32,000 and 512 pieces: not the same one.
      expect(await sameVocabulary(vocab, stories)).toBe(false);
      expect((await stories.tokenize!("Once upon a time")).fingerprint).toBe((await local(STORIES).tokenize!("")).fingerprint);
      await stories.dispose!();
    }
    await vocab.dispose!();
  });

  it.each([
    ["the random model", () => TINY],
    ["stories260K", () => STORIES],
  ])("gives dense next-token log-probabilities: typed rows that sum to one and agree with loglikelihood (%s)", async (_name, file) => {
    if (!existsSync(file())) return; // stories260K lives in ../shared
    const model = local(file(), { sequences: 3 });
    const dense = await model.tokenLogprobs!(TEXTS);
    expect(dense).toHaveLength(TEXTS.length);
    const { ids, fingerprint } = await model.tokenize!("");
    expect(ids).toHaveLength(0);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    for (const [index, result] of dense.entries()) {
      expect(result.tokens).toBeInstanceOf(Uint32Array);
      expect(result.logprobs).toBeInstanceOf(Float32Array);
      expect(result.logprobs.length).toBe(result.tokens.length * result.vocabSize);
      for (let position = 0; position < result.tokens.length; position++) {
        const row = logprobRow(result, position);
        expect(Math.abs(logSumExp(row))).toBeLessThan(1e-4);
        expect(row.every((value) => Number.isFinite(value) && value <= 0)).toBe(true);
      }
      // The continuation after a context: its log-likelihood is the sum of its tokens' rows.
      const text = TEXTS[index]!;
      const cut = text.lastIndexOf(" ");
      const scored = await model.loglikelihood!(text.slice(0, cut), text.slice(cut));
      const n = scored.tokens.length;
      let sum = 0;
      for (let position = result.tokens.length - 1 - n; position < result.tokens.length - 1; position++) {
        sum += result.logprobs[position * result.vocabSize + result.tokens[position + 1]!]!;
      }
      expect(Math.abs(sum - scored.logprob)).toBeLessThan(1e-4);
      scored.tokens.forEach((token, k) => {
        const position = result.tokens.length - 1 - n + k;
        expect(Math.abs(result.logprobs[position * result.vocabSize + result.tokens[position + 1]!]! - token.logprob)).toBeLessThan(1e-4);
      });
    }
    // Batched or one at a time: the same numbers.
    const alone = await model.tokenLogprobs!([TEXTS[1]!]);
    expect([...alone[0]!.tokens]).toEqual([...dense[1]!.tokens]);
    let worst = 0;
    for (let i = 0; i < alone[0]!.logprobs.length; i++) worst = Math.max(worst, Math.abs(alone[0]!.logprobs[i]! - dense[1]!.logprobs[i]!));
    expect(worst).toBeLessThan(1e-4);
    // tokenDistributions is built on the dense rows.
    const distributions = await model.tokenDistributions!(TEXTS[1]!, { topK: 3 });
    expect(distributions).toHaveLength(dense[1]!.tokens.length - 1);
    expect(distributions.every((d) => d.top.length === 3 && d.top[0]!.logprob >= d.top[1]!.logprob && d.top[1]!.logprob >= d.top[2]!.logprob)).toBe(true);
    await model.dispose!();
  });

  it.each([
    ["the random model", () => TINY],
    ["stories260K", () => STORIES],
  ])("scores a batch of log-likelihood requests as each alone, sharing contexts (%s)", async (_name, file) => {
    if (!existsSync(file())) return;
    const requests = [
      { context: "Once upon a", continuation: " time" },
      { context: "Lily went to the park to", continuation: " play" },
      { context: "Once upon a", continuation: " banana" },
      { context: "Once upon a ", continuation: "spreadsheet" }, // trailing space moves to the continuation
      { context: "Lily went to the park to", continuation: " photosynthesis" },
      { context: "The", continuation: " sun was hot and the dog was happy" },
      { context: "Once upon a", continuation: " time" }, // a duplicate
    ];
    const single = local(file(), { sequences: 1 });
    const alone: LoglikelihoodResult[] = [];
    for (const request of requests) alone.push(await single.loglikelihood!(request.context, request.continuation));
    for (const sequences of [1, 3]) {
      const batched = local(file(), { sequences });
      const together = await batched.loglikelihoods!(requests);
      expect(together).toHaveLength(requests.length);
      together.forEach((result, index) => {
        expect(result.tokens.map((t) => t.token)).toEqual(alone[index]!.tokens.map((t) => t.token));
        expect(Math.abs(result.logprob - alone[index]!.logprob)).toBeLessThan(1e-4);
        expect(result.isGreedy).toBe(alone[index]!.isGreedy);
      });
      expect(await batched.loglikelihoods!([])).toEqual([]);
      await batched.dispose!();
    }
    await single.dispose!();
  });

  it("reads a long text over a large vocabulary in chunks, with the same numbers as log-likelihood", async () => {
    // 8,259 tokens: llama.cpp's probabilities are read 126 positions at a time, so this text (and the scored
    // continuation) spans two chunks.
    const file = join(tempDir(), "wide-vocab.gguf");
    writeRandomLlama(file, { dim: 32, layers: 1, heads: 2, ffn: 64, vocabPieces: 8_000, seed: 3 });
    const model = local(file, { context_size: 512 });
    const text = "the quick brown fox jumps over the lazy dog and then it runs far away into the woods ".repeat(6);
    const [dense] = await model.tokenLogprobs!([text]);
    expect(dense!.vocabSize).toBe(8_259);
    expect(dense!.tokens.length).toBeGreaterThan(130);
    for (let position = 0; position < dense!.tokens.length; position += 17) expect(Math.abs(logSumExp(logprobRow(dense!, position)))).toBeLessThan(1e-4);
    const cut = text.indexOf(" ", 20);
    const scored = await model.loglikelihood!(text.slice(0, cut), text.slice(cut));
    let sum = 0;
    for (let position = dense!.tokens.length - 1 - scored.tokens.length; position < dense!.tokens.length - 1; position++) {
      sum += dense!.logprobs[position * dense!.vocabSize + dense!.tokens[position + 1]!]!;
    }
    expect(Math.abs(sum - scored.logprob)).toBeLessThan(1e-3 * scored.tokens.length);
    await model.dispose!();
  });

  it("dispose frees the model; a disposed model refuses calls with a clear error; others sharing the load keep working", async () => {
    const first = local(TINY, { sequences: 2 });
    const second = local(TINY, { sequences: 2 }); // the same load, shared
    await first.prepare!();
    const before = await second.loglikelihood!("Once upon a", " time");
    await first.dispose!();
    await first.dispose!(); // twice is fine
    const refused = /has been disposed; resolve it again/;
    await expect(first.generate({ messages: [{ role: "user", content: "hi" }], options: { max_tokens: 2 }, timeoutMs: 10_000 })).rejects.toThrow(refused);
    await expect(first.loglikelihood!("Once upon a", " time")).rejects.toThrow(refused);
    await expect(first.loglikelihoods!([{ context: "a", continuation: " b" }])).rejects.toThrow(refused);
    await expect(first.tokenLogprobs!(["a"])).rejects.toThrow(refused);
    await expect(first.tokenize!("a")).rejects.toThrow(refused);
    await expect(first.prepare!()).rejects.toThrow(refused);
    // The other model object still holds the load.
    expect((await second.loglikelihood!("Once upon a", " time")).logprob).toBeCloseTo(before.logprob, 6);
    // A call under way when dispose is called finishes first.
    const pending = second.tokenLogprobs!(TEXTS);
    await second.dispose!();
    expect(await pending).toHaveLength(TEXTS.length);
    await expect(second.tokenLogprobs!(TEXTS)).rejects.toThrow(refused);
    // With its last user gone the load is freed: a new model object loads it again, with the same numbers.
    const third = local(TINY, { sequences: 2 });
    expect((await third.loglikelihood!("Once upon a", " time")).logprob).toBeCloseTo(before.logprob, 6);
    // disposeLocalModels still frees everything, and a model object used again afterwards loads anew.
    await disposeLocalModels();
    expect((await third.loglikelihood!("Once upon a", " time")).logprob).toBeCloseTo(before.logprob, 6);
    await third.dispose!();
  });

  it("refuses a text longer than the context, naming the sizes", async () => {
    const model = local(TINY, { context_size: 32 });
    const long = "word ".repeat(200);
    await expect(model.tokenLogprobs!([long])).rejects.toThrow(/a text of \d+ tokens does not fit the context of \d+ \(raise context_size\)/);
    await expect(model.loglikelihood!(long, " end")).rejects.toThrow(/does not fit the context of \d+/);
    await model.dispose!();
  });
});
