// Decoding speed of a moe: mixture (mode mix) of two local experts against the experts' own generation,
// measured in the same run: each expert alone through llamacpp: (node-llama-cpp's LlamaCompletion, sampling in
// the addon), then the token-level mixture of both (each step reads both experts' dense next-token
// distributions and mixes them in JavaScript). The limit a mixture of K experts can reach is 1/K of one
// expert's own speed; the ratio printed is the mixture's speed over that limit.
// Usage (after npm run build, with node-llama-cpp installed): node bench/moe.mjs [THREADS=1] [TOKENS=32] [VOCAB=32000]
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runnerImport } from "vite";
import { disposeLocalModels } from "../dist/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../dist/providers/registry.js";

const { writeRandomLlama } = (await runnerImport(fileURLToPath(new URL("../test/helpers/gguf-writer.ts", import.meta.url)), { configFile: false, logLevel: "error" })).module;
const threads = Number(process.argv[2] ?? 1);
const tokens = Number(process.argv[3] ?? 32);
const vocab = Number(process.argv[4] ?? 32_000);
const work = mkdtempSync(join(tmpdir(), "alignbench-moe-bench-"));
const files = [3, 4].map((seed) => {
  const file = join(work, `expert-${seed}.gguf`);
  writeRandomLlama(file, { dim: 256, layers: 4, heads: 4, ffn: 512, vocabPieces: vocab - 259, tiedEmbeddings: true, seed });
  return file;
});
// The router's embeddings come from a loopback /embeddings endpoint (every text: (1, 1), equal weights).
const server = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const input = JSON.parse(body).input;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ data: input.map((_, index) => ({ index, embedding: [1, 1] })) }));
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const router = join(work, "router.json");
writeFileSync(
  router,
  JSON.stringify({
    format: "alignbench-moe-router",
    version: 1,
    mode: "mix",
    embedding: "openai:embed",
    temperature: 1,
    experts: files.map((file, index) => ({ name: `e${index}`, model: `llamacpp:${file}`, lambda: 0.5, centroid: index === 0 ? [1, 0] : [0, 1] })),
  }),
);
const registry = new ModelRegistry({ env: {}, baseUrl: `http://127.0.0.1:${server.address().port}/v1`, providers: { llamacpp: { threads, gpu: false, sequences: 1, context_size: 512 } } });
const request = { prompt: "Once upon a time there was a cat", options: { temperature: 0, max_tokens: tokens }, timeoutMs: 600_000 };

async function rate(model) {
  await model.complete({ ...request, options: { ...request.options, max_tokens: 2 } }); // load and warm up
  const started = performance.now();
  const answer = await model.complete(request);
  return answer.usage.output_tokens / ((performance.now() - started) / 1000);
}

console.log(`two random llamas (dim 256, 4 layers, ${vocab} vocabulary), threads ${threads}, ${tokens} tokens`);
const alone = [];
for (const file of files) alone.push(await rate(registry.resolve(`llamacpp:${file}`).model));
const mixed = await rate(registry.resolve(`moe:${router}`).model);
const limit = 1 / (1 / alone[0] + 1 / alone[1]);
console.log(`experts alone: ${alone.map((value) => value.toFixed(1)).join(" and ")} tokens/s; the mixture's limit (both in turn): ${limit.toFixed(1)} tokens/s`);
console.log(`mixture (mix, 2 experts): ${mixed.toFixed(1)} tokens/s = ${(mixed / limit).toFixed(2)} of the limit`);
await disposeLocalModels();
server.close();
