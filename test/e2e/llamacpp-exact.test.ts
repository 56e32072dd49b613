import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { logprobRow, logSumExp } from "../../src/providers/dense-logprobs.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { vocabularyTokens, writeKnownLlama } from "../helpers/gguf-writer.js";
import { needs } from "../helpers/requirements.js";
import { tempDir } from "../helpers/run-folder.js";

// llama.cpp's log-probabilities checked against an independent computation: a model whose blocks add nothing,
// so the logits after token c are output · rmsnorm(embedding[c]), computed here in double precision. Its
// output rows put logit gaps of 0 to ≈ 230 nats between tokens, so a row holds tokens whose probability is a
// float32 denormal or underflows to 0 in node-llama-cpp's float32 softmax, which alignbench must recover.

const hasLibrary = needs("llama");

const PIECES = 300;
const DIM = 16;
const VOCABULARY = vocabularyTokens(PIECES);
const N = VOCABULARY.length;
const BOS = 1;
// llama.cpp's float32 logits of magnitude ≈ 115 and, for recovered tokens, the float32 sum of logit and bias
// (ulp 1.5e-5 at 130) differ from the double-precision values by up to 1.8e-5 on this machine; 2e-4 is about
// ten times that, room for other CPUs' float32 reductions.
const TOLERANCE = 2e-4;

const random = seededRandom(11);
const gaussian = () => (random() + random() + random() - 1.5) * 0.25;
const embedding = new Float32Array(N * DIM).map((_, index) => (index % DIM === 0 ? 3 : gaussian()));
// Tokens 259..298 ("▁e", "e", "▁t", …) get output rows k·e₀ for k from 30 down to −30: logits from ≈ +115 to
// ≈ −115 after any token; end-of-sequence (2) gets the lowest; the rest are small and random.
const FAR = 300;
const spread = (id: number) => 30 - (60 * (id - 259)) / 39;
const output = new Float32Array(N * DIM).map((_, index) => {
  const [id, d] = [Math.floor(index / DIM), index % DIM];
  if (id >= 259 && id < 299) return d === 0 ? spread(id) : 0;
  if (id === 2) return d === 0 ? -30 : 0;
  // ≈ 2,000 nats below the top: beyond what the bias recovers, so −Infinity (in effect a −inf logit).
  if (id === FAR) return d === 0 ? -500 : 0;
  return gaussian();
});

/** log P(· | …, token) in double precision. */
function expectedRow(token: number): Float64Array {
  const x = embedding.subarray(token * DIM, (token + 1) * DIM);
  const rms = Math.sqrt(x.reduce((sum, value) => sum + value * value, 0) / DIM + 1e-5);
  const logits = new Float64Array(N);
  for (let id = 0; id < N; id++) for (let d = 0; d < DIM; d++) logits[id]! += output[id * DIM + d]! * (x[d]! / rms);
  const norm = logSumExp(logits);
  return logits.map((logit) => logit - norm);
}

let FILE = "";
beforeAll(() => {
  FILE = join(tempDir(), "known.gguf");
  writeKnownLlama(FILE, { dim: DIM, vocabPieces: PIECES, embedding, output });
});
afterAll(() => disposeLocalModels());

const model = () => new ModelRegistry({ env: {}, providers: { llamacpp: { threads: 1, gpu: false } } }).resolve(`llamacpp:${FILE}`).model;

describe.skipIf(!hasLibrary)("llama.cpp log-probabilities against an independent computation", () => {
  it("dense rows equal the double-precision log-softmax, including tokens below the float32 range", async () => {
    const text = "e b t a";
    const local = model();
    const [dense] = await local.tokenLogprobs!([text]);
    expect([...dense!.tokens]).toEqual([BOS, ...(await local.tokenize!(text)).ids]);
    let denormal = 0;
    let underflow = 0;
    let largest = 0;
    for (let position = 0; position < dense!.tokens.length; position++) {
      const want = expectedRow(dense!.tokens[position]!);
      const got = logprobRow(dense!, position);
      expect(got[FAR]).toBe(Number.NEGATIVE_INFINITY);
      for (let id = 0; id < N; id++) {
        if (id === FAR) continue;
        if (want[id]! < -87.4 && want[id]! > -103) denormal++;
        if (want[id]! < -104) underflow++;
        largest = Math.max(largest, Math.abs(got[id]! - want[id]!));
      }
    }
    // The row covers all three ranges, so the recovery is exercised.
    expect(denormal).toBeGreaterThan(0);
    expect(underflow).toBeGreaterThan(0);
    expect(largest).toBeLessThan(TOLERANCE);
  });

  it("log-likelihoods and greediness equal the independent computation, far below the float32 range too", async () => {
    const local = model();
    const cases = [
      { context: "e", continuation: " e" },
      { context: "e", continuation: " b b" },
      { context: "t a", continuation: " i" },
    ];
    const results = await local.loglikelihoods!(cases);
    for (const [index, { context, continuation }] of cases.entries()) {
      const whole = [BOS, ...(await local.tokenize!(context + continuation)).ids];
      const from = 1 + (await local.tokenize!(context)).ids.length;
      let logprob = 0;
      let greedy = true;
      for (let position = from; position < whole.length; position++) {
        const row = expectedRow(whole[position - 1]!);
        logprob += row[whole[position]!]!;
        greedy &&= row.every((value) => value <= row[whole[position]!]!);
      }
      expect(Math.abs(results[index]!.logprob - logprob), `${context}|${continuation}`).toBeLessThan(TOLERANCE * (whole.length - from));
      expect(results[index]!.isGreedy).toBe(greedy);
    }
    // " e" is the top token ("▁e", logit ≈ +115); " b b" is two tokens ≈ 230 nats below it, 0 in float32.
    expect(results[0]!.isGreedy).toBe(true);
    expect(results[1]!.logprob).toBeLessThan(-400);
    expect(Number.isFinite(results[1]!.logprob)).toBe(true);
  });
});
