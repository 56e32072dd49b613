// Throughput of local GGUF models (llama.cpp in-process): output tokens/s with 1, 8 and 32 parallel
// sequences in one context, on a ~31M-parameter random-weight llama the script writes (dim 512, 8 layers,
// 32k vocabulary, tied embeddings) and on stories260K when ../shared is present.
// Usage (after npm run build, with node-llama-cpp installed): node bench/llamacpp.mjs [THREADS=2] [TOKENS=64]
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";
import { disposeLocalModels } from "../dist/providers/llamacpp/llamacpp-model.js";
import { ModelRegistry } from "../dist/providers/registry.js";

// The GGUF writer is test support (TypeScript under test/, not built): vite loads it as the tests do.
const { writeRandomLlama } = (await runnerImport(fileURLToPath(new URL("../test/helpers/gguf-writer.ts", import.meta.url)), { configFile: false, logLevel: "error" })).module;

const threads = Number(process.argv[2] ?? 2);
const tokens = Number(process.argv[3] ?? 64);
const work = mkdtempSync(join(tmpdir(), "alignbench-llama-bench-"));
const random = join(work, "random-31m.gguf");
const params = writeRandomLlama(random, { dim: 512, layers: 8, heads: 8, ffn: 512, vocabPieces: 32_000 - 259, tiedEmbeddings: true, seed: 3 });
console.log(`random llama: ${(params / 1e6).toFixed(1)}M parameters, ${(statSync(random).size / 1e6).toFixed(0)} MB (F32), threads ${threads}, ${tokens} tokens per sequence`);
const stories = new URL("../../shared/datasets/models/stories260K.gguf", import.meta.url).pathname;

async function measure(file, sequences) {
  const model = new ModelRegistry({ env: {}, providers: { llamacpp: { threads, gpu: false, sequences, context_size: 512 } } }).resolve(`llamacpp:${file}`).model;
  const request = (i) => ({ messages: [{ role: "user", content: `story number ${i} about a cat` }], options: { temperature: 0, max_tokens: tokens }, timeoutMs: 600_000 });
  await model.generate(request(-1)); // load and warm up
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: sequences }, (_, i) => model.generate(request(i))));
  const seconds = (performance.now() - started) / 1000;
  const generated = answers.reduce((sum, answer) => sum + answer.usage.output_tokens, 0);
  return { generated, seconds, rate: generated / seconds };
}

for (const [name, file] of [
  ["random 31M", random],
  ["stories260K", stories],
]) {
  if (!existsSync(file)) continue;
  const results = [];
  for (const sequences of [1, 8, 32]) {
    const result = await measure(file, sequences);
    results.push(result.rate);
    console.log(`${name.padEnd(12)} ${String(sequences).padStart(2)} sequences: ${result.generated} tokens in ${result.seconds.toFixed(2)} s = ${result.rate.toFixed(0)} tokens/s`);
  }
  console.log(`${name.padEnd(12)} speed-up over 1 sequence: 8 → ${(results[1] / results[0]).toFixed(2)}×, 32 → ${(results[2] / results[0]).toFixed(2)}×`);
  if (file === random) {
    // Where the time goes: one sequence streams every F32 weight once per token (memory-bound); 32
    // sequences share each weight read across 32 tokens, so the step becomes matrix arithmetic (compute-bound).
    const bytes = params * 4;
    const flops = 2 * params;
    console.log(
      `${name.padEnd(12)} 1 sequence reads ${((bytes * results[0]) / 1e9).toFixed(1)} GB/s of weights and does ${((flops * results[0]) / 1e9).toFixed(1)} GFLOP/s; ` +
        `32 sequences do ${((flops * results[2]) / 1e9).toFixed(1)} GFLOP/s with ${((bytes * results[2]) / 32 / 1e9).toFixed(1)} GB/s of weight reads: ` +
        `batching can only add what the arithmetic of ${threads} thread(s) allows over the memory-bound single stream`,
    );
  }
  await disposeLocalModels();
}
rmSync(work, { recursive: true, force: true });
