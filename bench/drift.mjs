// Fidelity Loss throughput: N texts of ~128 tokens (default 1,000) through runTextDrift with two ~25M-parameter
// random llama models the script writes (dim 512, 5 layers, 32k vocabulary, tied embeddings; the second a
// perturbed copy of the first), against the two models' bare forward passes over the same tokens in the same
// run. Fidelity Loss needs every position's next-token distribution, so the like-for-like bare pass decodes
// each text with the logits of every position and reads none (the dense-logits addon's evaluate without
// statistics, the same llama.cpp library, batch and threads); the ratio FL / that pass is the issue's target
// (≤ 1.3). node-llama-cpp's own bare pass (sequence.evaluateWithoutGeneratingNewTokens) is timed too: it
// computes the output layer for the last position only, which on this shape is most of a token's work (the
// 512 × 32k output matrix against 5 layers of 1.8M weights), so it is a floor no exact FL can reach.
// Other passes show where the time goes: the addon's statistics alone (no tokenizing, no row bookkeeping), the
// same statistics reduced in JavaScript from copied logits (the alternative design: logits to JS, KL over
// typed arrays), and, with BENCH_PROVIDER=1, the provider path through node-llama-cpp's probabilities that
// Fidelity Loss falls back to without the addon.
// Usage (after npm run build, with node-llama-cpp installed): node bench/drift.mjs [TEXTS=1000] [THREADS=2] [TOKENS=128]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";
import { logSoftmaxInPlace } from "../dist/providers/dense-logprobs.js";
import { disposeLocalModels } from "../dist/providers/llamacpp/llamacpp-loading.js";
import { denseLogitsAddon, freeNativeModel, loadNativeModel } from "../dist/providers/llamacpp/native-fidelity.js";
import { denseDrift } from "../dist/runner/plans/drift-kl.js";
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

// node-llama-cpp's bare forward passes: the same models and context settings, straight through the library.
const { getLlama } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false });
const bare = await Promise.all(
  [tunedFile, baseFile].map(async (modelPath) => {
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({ sequences: 1, contextSize: 512, threads });
    return { model, context, sequence: context.getSequence() };
  }),
);

const role = (name, model) => ({ role: name, address: model.address, options: {}, call: () => Promise.reject(new Error("no chat")), scoring: model });
const context = (text, target = tuned) => ({
  sample: { id: "t", category: "text", subcategory: "", conversation: [{ role: "user", content: text }] },
  dimensions: {},
  persona: undefined,
  roles: { target: role("target", target), base: role("base", base) },
  options: {},
  call: () => Promise.reject(new Error("no chat")),
  complete: () => Promise.reject(new Error("no completion")),
  recordStored: () => undefined,
  transcript: [],
});

// The dense-logits addon on loads of its own (the provider's are separate): bare decodes with every position's
// logits, its statistics alone, and the JavaScript reduction of copied logits.
const buildStarted = performance.now();
const addon = await denseLogitsAddon(false);
if (!addon) throw new Error("the dense-logits addon is not available here (see the notice above)");
console.log(`dense-logits addon ready in ${((performance.now() - buildStarted) / 1000).toFixed(2)} s (compiled at first use, then cached)`);
const nativeOptions = { contextSize: 512, threads, gpuLayers: 0 };
const [nativeTuned, nativeBase] = [await loadNativeModel(addon, tunedFile, nativeOptions), await loadNativeModel(addon, baseFile, nativeOptions)];
const vocab = nativeTuned.vocabSize;
const providerPath = (model) => Object.assign(Object.create(model), { fidelityStatistics: undefined });

// One text through each way of computing it; each returns the text's KL sum where it computes one.
const passes = {
  // Every position's logits, read by nobody: the forward passes Fidelity Loss cannot do without.
  bare: async (i) => {
    await addon.evaluate(nativeTuned.context, nativeBase.context, Int32Array.from(tokenIds[i]), false, threads);
  },
  // node-llama-cpp: the last position's logits only (the output layer skipped elsewhere), both models at once.
  library: async (i) => {
    await Promise.all(
      bare.map(async ({ sequence }) => {
        await sequence.evaluateWithoutGeneratingNewTokens(tokenIds[i]);
        await sequence.clearHistory();
      }),
    );
  },
  // The whole plan row: tokenizing, the native statistics, sums, the top-KL tokens detokenized.
  fl: async (i) => (await runTextDrift(context(texts[i]))).scores.fidelity.metrics.kl_sum,
  statistics: async (i) => {
    const result = await addon.evaluate(nativeTuned.context, nativeBase.context, Int32Array.from(tokenIds[i]), true, threads);
    return result.kl.reduce((sum, value) => sum + value, 0);
  },
  // The alternative design: logits copied to JavaScript, log-softmax and drift-kl.ts's denseDrift there.
  javascript: async (i) => {
    const ids = tokenIds[i];
    await addon.evaluate(nativeTuned.context, nativeBase.context, Int32Array.from(ids), false, threads);
    const rows = [nativeTuned, nativeBase].map(({ context: handle }) => {
      const logits = new Float32Array(ids.length * vocab);
      addon.copyLogits(handle, ids.length, logits);
      for (let position = 0; position < ids.length; position++) logSoftmaxInPlace(logits.subarray(position * vocab, (position + 1) * vocab));
      return { tokens: Uint32Array.from(ids), logprobs: logits, vocabSize: vocab };
    });
    return denseDrift(rows[0], rows[1]).klSum;
  },
};
// The fallback without the addon (node-llama-cpp's probability maps): slow, so only with BENCH_PROVIDER=1.
if (process.env.BENCH_PROVIDER === "1") passes.provider = async (i) => (await runTextDrift(context(texts[i], providerPath(tuned)))).scores.fidelity.metrics.kl_sum;

// Warm every path up on the first text, then time each text through every path, in an order that rotates from
// text to text: on a shared machine the load changes by the second, and interleaving spreads it evenly.
const names = Object.keys(passes);
for (const name of names) await passes[name](0);
const seconds = Object.fromEntries(names.map((name) => [name, 0]));
const klSums = Object.fromEntries(names.map((name) => [name, 0]));
for (let i = 0; i < count; i++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(i + k) % names.length];
    const started = performance.now();
    const kl = await passes[name](i);
    seconds[name] += (performance.now() - started) / 1000;
    if (kl !== undefined) klSums[name] += kl;
  }
  if ((i + 1) % Math.max(1, Math.floor(count / 10)) === 0) process.stderr.write(`  ${i + 1}/${count} texts\n`);
}
const scored = tokens - count;
const rate = (name) => `${seconds[name].toFixed(2)} s = ${(count / seconds[name]).toFixed(2)} texts/s`;
const ratio = (name) => (seconds[name] / seconds.bare).toFixed(2);
console.log(`bare forward passes, every position's logits (addon, both models): ${rate("bare")}, ${((2 * tokens) / seconds.bare).toFixed(0)} tokens/s`);
console.log(`bare forward passes, last position's logits only (node-llama-cpp, both models): ${rate("library")}`);
console.log(`Fidelity Loss rows (runTextDrift, native statistics): ${rate("fl")} (token-weighted FL ${(klSums.fl / scored).toFixed(6)} nats)`);
console.log(`addon statistics alone: ${rate("statistics")} (FL ${(klSums.statistics / scored).toFixed(6)})`);
console.log(`logits copied to JavaScript and reduced there: ${rate("javascript")} (FL ${(klSums.javascript / scored).toFixed(6)})`);
if (passes.provider) console.log(`Fidelity Loss through node-llama-cpp's probabilities (the fallback): ${rate("provider")} (FL ${(klSums.provider / scored).toFixed(6)})`);
console.log(
  `ratio to the bare passes with every position's logits: FL ${ratio("fl")} (target ≤ 1.3); addon statistics alone ${ratio("statistics")}; JavaScript reduction ${ratio("javascript")}${passes.provider ? `; fallback ${ratio("provider")}` : ""}`,
);
console.log(
  `ratio to node-llama-cpp's bare passes (last position only): FL ${(seconds.fl / seconds.library).toFixed(2)}; every position's logits / last position's: ${(seconds.bare / seconds.library).toFixed(2)}`,
);
for (const loaded of [nativeTuned, nativeBase]) await freeNativeModel(addon, loaded);
for (const { context: handle, model } of bare) {
  await handle.dispose();
  await model.dispose();
}
await disposeLocalModels();
rmSync(work, { recursive: true, force: true });
