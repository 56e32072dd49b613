// Fidelity Loss throughput: N texts of ~128 tokens (default 1,000) through runTextDrift with two ~25M-parameter
// random llama models the script writes (dim 512, 5 layers, 32k vocabulary, tied embeddings; the second a
// perturbed copy of the first), against the two models' bare forward passes over the same tokens in the same
// run: node-llama-cpp's sequence.evaluateWithoutGeneratingNewTokens, which computes the logits and reads none.
// The ratio is (FL pass time) / (bare pass time); both run the two models side by side, one text at a time.
// A third pass times the provider's dense log-probabilities alone (tokenLogprobs, no KL work), which shows
// where the time goes: node-llama-cpp 3.21.1 hands no logits to JavaScript, only a Map of every token's
// probability per position (llamacpp-probabilities.ts), and building those maps costs far more than the KL.
// Two more passes time that library floor alone on the bare sequences (probabilities, and the sort alone), so
// the run shows how much of the FL time the provider and the KL add on top of what node-llama-cpp must spend.
// Usage (after npm run build, with node-llama-cpp installed): node bench/drift.mjs [TEXTS=1000] [THREADS=2] [TOKENS=128]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";
import { disposeLocalModels } from "../dist/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../dist/providers/registry.js";
import { runTextDrift } from "../dist/runner/plans/drift-text.js";

// The GGUF writer is test support (TypeScript under test/, not built): vite loads it as the tests do.
const { writeRandomLlama } = (await runnerImport(fileURLToPath(new URL("../test/helpers/gguf-writer.ts", import.meta.url)), { configFile: false, logLevel: "error" })).module;

const count = Number(process.argv[2] ?? 1000);
const threads = Number(process.argv[3] ?? 2);
const length = Number(process.argv[4] ?? 128);
const work = mkdtempSync(join(tmpdir(), "alignbench-drift-bench-"));
const shape = { dim: 512, layers: 5, heads: 8, ffn: 512, vocabPieces: 32_000 - 259, tiedEmbeddings: true, seed: 3 };
const baseFile = join(work, "base.gguf");
const tunedFile = join(work, "tuned.gguf");
const params = writeRandomLlama(baseFile, shape);
writeRandomLlama(tunedFile, { ...shape, perturb: { epsilon: 0.01, seed: 5 } });
console.log(`two random llamas of ${(params / 1e6).toFixed(1)}M parameters, 32k vocabulary; ${count} texts of ${length} tokens; ${threads} threads per model`);

const settings = { llamacpp: { threads, gpu: false, sequences: 1, context_size: 512 } };
const registry = new ModelRegistry({ env: {}, providers: settings });
const tuned = registry.resolve(`llamacpp:${tunedFile}`).model;
const base = registry.resolve(`llamacpp:${baseFile}`).model;

// Texts of words from the vocabulary's letters, cut to `length` tokens with the beginning-of-sequence token.
let seed = 11;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const letters = "etaoinshrdlcumwfgypbvkjxqz";
const texts = [];
const tokenIds = [];
for (let i = 0; i < count; i++) {
  const words = [];
  let ids;
  do {
    for (let w = 0; w < 16; w++) words.push(Array.from({ length: 1 + Math.floor(random() * 6) }, () => letters[Math.floor(random() * 10 + (random() < 0.2 ? 10 : 0))]).join(""));
    ids = (await tuned.tokenize(words.join(" "))).ids;
  } while (ids.length < length - 1);
  let text = words.join(" ");
  while ((await tuned.tokenize(text)).ids.length > length - 1) text = text.slice(0, -1);
  texts.push(text);
  tokenIds.push([1, ...(await tuned.tokenize(text)).ids]);
}
const tokens = tokenIds.reduce((sum, ids) => sum + ids.length, 0);

// The bare forward passes: the same models and context settings, straight through node-llama-cpp.
const { getLlama } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false });
const bare = await Promise.all(
  [tunedFile, baseFile].map(async (modelPath) => {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ sequences: 1, contextSize: 512, threads });
    return { model, context, sequence: context.getSequence() };
  }),
);
async function barePass() {
  const started = performance.now();
  for (const ids of tokenIds) {
    await Promise.all(
      bare.map(async ({ sequence }) => {
        await sequence.evaluateWithoutGeneratingNewTokens(ids);
        await sequence.clearHistory();
      }),
    );
  }
  return (performance.now() - started) / 1000;
}

const role = (name, model) => ({ role: name, address: model.address, options: {}, call: () => Promise.reject(new Error("no chat")), scoring: model });
const context = (text) => ({
  sample: { id: "t", category: "text", subcategory: "", conversation: [{ role: "user", content: text }] },
  dimensions: {},
  persona: undefined,
  roles: { target: role("target", tuned), base: role("base", base) },
  options: {},
  call: () => Promise.reject(new Error("no chat")),
  complete: () => Promise.reject(new Error("no completion")),
  recordStored: () => undefined,
  transcript: [],
});
async function flPass() {
  const started = performance.now();
  let kl = 0;
  let scored = 0;
  for (const text of texts) {
    const score = (await runTextDrift(context(text))).scores.fidelity;
    kl += score.metrics.kl_sum;
    scored += score.metrics.tokens;
  }
  return { seconds: (performance.now() - started) / 1000, fl: kl / scored };
}

// The provider's dense path alone: both models' tokenLogprobs, no drift work (where the probability maps cost).
async function densePass() {
  const started = performance.now();
  for (const text of texts) await Promise.all([tuned.tokenLogprobs([text]), base.tokenLogprobs([text])]);
  return (performance.now() - started) / 1000;
}

// node-llama-cpp's own floor for the dense path, on the bare sequences (no provider, no drift work): every
// position evaluated with `probabilities: true` (its addon sorts the vocabulary by logit, then hands JavaScript an
// array of token/probability pairs that the library turns into a Map), and with `confidence: true` (the same
// sort, one number handed over). 3.21.1 has no call that returns logits or a typed array, so the first is the
// least any exact dense path through this library can cost.
async function libraryPass(generateNext) {
  const started = performance.now();
  for (const ids of tokenIds) {
    await Promise.all(
      bare.map(async ({ sequence }) => {
        await sequence.controlledEvaluate(ids.map((token) => [token, { generateNext: { ...generateNext, options: { temperature: 0 } } }]));
        await sequence.clearHistory();
      }),
    );
  }
  return (performance.now() - started) / 1000;
}

// Warm up both paths (loads, first allocations), then measure bare, FL, bare again (the load may change).
await runTextDrift(context(texts[0]));
await Promise.all(bare.map(({ sequence }) => sequence.evaluateWithoutGeneratingNewTokens(tokenIds[0]).then(() => sequence.clearHistory())));
const bare1 = await barePass();
const fl = await flPass();
const dense = await densePass();
const library = await libraryPass({ probabilities: true });
const sorted = await libraryPass({ confidence: true });
const bare2 = await barePass();
const bareSeconds = (bare1 + bare2) / 2;
console.log(`bare forward passes (both models): ${bare1.toFixed(2)} s and ${bare2.toFixed(2)} s = ${(count / bareSeconds).toFixed(1)} texts/s, ${((2 * tokens) / bareSeconds).toFixed(0)} tokens/s`);
console.log(`Fidelity Loss pass: ${fl.seconds.toFixed(2)} s = ${(count / fl.seconds).toFixed(1)} texts/s (token-weighted FL ${fl.fl.toFixed(4)} nats)`);
console.log(`dense log-probabilities alone (tokenLogprobs of both, no drift work): ${dense.toFixed(2)} s = ${(count / dense).toFixed(1)} texts/s`);
console.log(
  `node-llama-cpp probabilities alone (every position, both models, no provider): ${library.toFixed(2)} s = ${(library / bareSeconds).toFixed(2)}× the bare passes; its sort alone (confidence): ${sorted.toFixed(2)} s = ${(sorted / bareSeconds).toFixed(2)}×`,
);
console.log(
  `ratio FL / bare forward passes: ${(fl.seconds / bareSeconds).toFixed(2)} (target ≤ 1.3); FL / dense log-probabilities: ${(fl.seconds / dense).toFixed(2)}; FL / node-llama-cpp probabilities: ${(fl.seconds / library).toFixed(2)}`,
);
for (const { context: ctx, model } of bare) {
  await ctx.dispose();
  await model.dispose();
}
await disposeLocalModels();
rmSync(work, { recursive: true, force: true });
