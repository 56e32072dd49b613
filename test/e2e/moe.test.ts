import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logprobRow } from "../../src/providers/dense-logprobs.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { generateMixed, mixDistributions } from "../../src/providers/moe/mixture.js";
import { ROUTER_FORMAT, type RouterFile } from "../../src/providers/moe/router-file.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { run } from "../../src/runner/run.js";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { runCli } from "../helpers/cli.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// The moe: provider on real models: two tiny llama experts written here (same vocabulary, different seeds),
// stories260K from ../shared (another vocabulary), and an OpenAI-compatible mock for the embeddings and for
// API experts. The embedding of a text is (1, 0) when it mentions "kind", (0, 1) otherwise.

const hasLibrary = needs("llama");
const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");

let dir = "";
let A = "";
let B = "";
let mock: MockLlm;

function embeddingOf(text: string): number[] {
  return /kind/i.test(text) ? [1, 0] : [0, 1];
}

beforeAll(async () => {
  dir = tempDir();
  A = join(dir, "expert-a.gguf");
  B = join(dir, "expert-b.gguf");
  writeRandomLlama(A, { dim: 32, layers: 1, heads: 2, ffn: 64, vocabPieces: 200, seed: 3 });
  writeRandomLlama(B, { dim: 32, layers: 1, heads: 2, ffn: 64, vocabPieces: 200, seed: 4 });
  mock = await startMockLlm((request) => {
    if (request.path.endsWith("/embeddings")) {
      const input = request.body.input as string[];
      return { status: 200, json: { data: input.map((text, index) => ({ index, embedding: embeddingOf(text) })) } };
    }
    // API experts answer with their own name.
    return { reply: `answer from ${String(request.body.model)}` };
  });
});
afterAll(async () => {
  await mock?.close();
  await disposeLocalModels();
});

function registry(): ModelRegistry {
  return new ModelRegistry({ env: {}, baseUrl: mock.url, providers: { llamacpp: { threads: 1, gpu: false, sequences: 2 } } });
}

function writeRouter(name: string, router: Omit<RouterFile, "format" | "version">): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ format: ROUTER_FORMAT, version: 1, ...router }));
  return file;
}

describe("moe: top mode over API experts", () => {
  it("routes each prompt to the expert of the highest calibrated weight and records the weights", async () => {
    const file = writeRouter("api.json", {
      mode: "top",
      embedding: "openai:embedder",
      temperature: 1,
      experts: [
        { name: "kindness", model: "openai:kind-expert", lambda: 0.5, centroid: [1, 0] },
        { name: "other", model: "openai:other-expert", lambda: 0.5, centroid: [0, 1] },
      ],
    });
    const model = registry().resolve(`moe:${file}`).model;
    await model.prepare!();
    const kind = await model.generate({ messages: [{ role: "user", content: "Be kind to me" }], options: {}, timeoutMs: 5000 });
    expect(kind.text).toBe("answer from kind-expert");
    // cos = (1, 0): softmax = (e, 1)/(e + 1) = (0.731059, 0.268941); λ equal, so the weights are the softmax.
    // The router file's sha256 (16 hex digits) names the router that made the answer.
    const router = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16);
    expect(kind.details).toEqual({ moe: { mode: "top", expert: "kindness", weights: { kindness: 0.731059, other: 0.268941 }, similarities: { kindness: 1, other: 0 }, router } });
    const other = await model.generate({
      messages: [
        { role: "system", content: "be kind" },
        { role: "user", content: "What is 2+2?" },
      ],
      options: {},
      timeoutMs: 5000,
    });
    expect(other.text).toBe("answer from other-expert"); // routed on the user's message, not the system prompt
    const embedded = mock.requests.filter((request) => request.path.endsWith("/embeddings")).map((request) => request.body.input);
    expect(embedded).toContainEqual(["What is 2+2?"]);
  });

  it("lets λ overrule the similarity: λ = (0.1, 0.9) sends a 'kind' prompt to the other expert", async () => {
    // w ∝ (0.1·e, 0.9·1) = (0.271828, 0.9): the other expert has 0.768 of the weight.
    const file = writeRouter("api-lambda.json", {
      mode: "top",
      embedding: "openai:embedder",
      temperature: 1,
      experts: [
        { name: "kindness", model: "openai:kind-expert", lambda: 0.1, centroid: [1, 0] },
        { name: "other", model: "openai:other-expert", lambda: 0.9, centroid: [0, 1] },
      ],
    });
    const model = registry().resolve(`moe:${file}`).model;
    const answer = await model.generate({ messages: [{ role: "user", content: "Be kind" }], options: {}, timeoutMs: 5000 });
    expect(answer.text).toBe("answer from other-expert");
    expect((answer.details!.moe as { weights: Record<string, number> }).weights.other).toBeCloseTo(0.9 / (0.1 * Math.E + 0.9), 5);
  });

  it("refuses mix mode over API experts, and a bad router file, before the first item", async () => {
    const file = writeRouter("api-mix.json", {
      mode: "mix",
      embedding: "openai:embedder",
      temperature: 1,
      experts: [{ name: "x", model: "openai:kind-expert", lambda: 1, centroid: [1, 0] }],
    });
    await expect(registry().resolve(`moe:${file}`).model.prepare!()).rejects.toThrow(/mode mix mixes next-token distributions, which openai:kind-expert cannot give/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ format: ROUTER_FORMAT, version: 1, mode: "top", embedding: "openai:e", temperature: -1, experts: [] }));
    await expect(registry().resolve(`moe:${bad}`).model.prepare!()).rejects.toThrow(`${bad}: temperature: must be > 0`);
  });
});

describe("moe: through the CLI", () => {
  it("a bad router file stops alignbench run before the first item: exit 2, the file and field, no stack", async () => {
    const bad = join(dir, "cli-bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ format: ROUTER_FORMAT, version: 1, mode: "top", embedding: "openai:e", temperature: 1, experts: [{ name: "x", model: "openai:m", lambda: 1, centroid: [0, 0] }] }),
    );
    const dataset = join(dir, "cli.jsonl");
    writeJsonl(dataset, [{ id: "1", prompt: "hi" }]);
    const out = await runCli(["run", "--dataset", dataset, "--models", `moe:${bad}`, "--base-url", mock.url, "--output-dir", join(dir, "cli-results"), "--no-progress"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${bad}: experts.0.centroid: is all zeros`);
    expect(out.stderr).not.toMatch(/\n\s+at /);
    const missing = await runCli(["run", "--dataset", dataset, "--models", `moe:${join(dir, "nowhere.json")}`, "--base-url", mock.url, "--output-dir", join(dir, "cli-results"), "--no-progress"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nowhere.json: cannot read the router file (ENOENT)");
  });
});

describe.skipIf(!hasLibrary)("moe: mix mode over local experts", () => {
  const router = (weights: [number, number], temperature = 1) =>
    writeRouter(`mix-${weights.join("-")}.json`, {
      mode: "mix",
      embedding: "openai:embedder",
      temperature,
      experts: [
        { name: "a", model: "llamacpp:./expert-a.gguf", lambda: weights[0], centroid: [1, 0] },
        { name: "b", model: "llamacpp:./expert-b.gguf", lambda: weights[1], centroid: [0, 1] },
      ],
    });

  it("a decoder's next-token distribution is the dense tokenLogprobs row at every position", async () => {
    // One token at a time (the decoder) and the whole text in one batch (tokenLogprobs) sum llama.cpp's
    // float32 products in another order: they agree to a few float32 ulps (≈5e-7 seen), not bit for bit.
    const expert = registry().resolve(`llamacpp:${A}`).model;
    const text = "the cat sat on a mat and then ate";
    const [dense] = await expert.tokenLogprobs!([text]);
    const decoder = await expert.openDecoder!();
    try {
      const tokens = [...dense!.tokens];
      expect(decoder.textTokens(text)).toEqual(tokens);
      for (let length = 1; length <= tokens.length; length++) {
        const row = await decoder.next(tokens.slice(0, length));
        const expected = logprobRow(dense!, length - 1);
        let largest = 0;
        for (let token = 0; token < row.length; token++) largest = Math.max(largest, Math.abs(row[token]! - expected[token]!));
        expect(largest).toBeLessThan(1e-5);
      }
    } finally {
      await decoder.close();
    }
  });

  it("decodes greedily from Σ w_i P_i: each step's token is the argmax of the experts' dense rows mixed by the routing weights", async () => {
    // "kind" → e = (1, 0), cos = (1, 0); λ = (0.5, 0.5), T = 1: w = (e, 1)/(e + 1) = (0.731059, 0.268941).
    const model = registry().resolve(`moe:${router([0.5, 0.5])}`).model;
    await model.prepare!();
    const prompt = "a kind dog";
    const answer = await model.complete!({ prompt, options: { temperature: 0, max_tokens: 12 }, timeoutMs: 60_000 });
    const weights = [Math.E / (Math.E + 1), 1 / (Math.E + 1)];
    expect(answer.details).toMatchObject({ moe: { mode: "mix", weights: { a: 0.731059, b: 0.268941 } } });
    // The reference: the experts' own dense rows (tokenLogprobs) after the prompt's tokens and each token
    // chosen so far, mixed here with the weights above.
    const experts = [A, B].map((file) => registry().resolve(`llamacpp:${file}`).model);
    const decoders = await Promise.all(experts.map((expert) => expert.openDecoder!()));
    try {
      const reference = await generateMixed(decoders, weights, decoders[0]!.textTokens(prompt), { temperature: 0, max_tokens: 12 });
      expect(answer.text).toBe(reference.text);
      expect(answer.usage.output_tokens).toBe(reference.tokens.length);
      // And the first step checked against tokenLogprobs itself: the mixture of the dense last rows.
      const dense = await Promise.all(experts.map(async (expert) => (await expert.tokenLogprobs!([prompt]))[0]!));
      const mixed = mixDistributions(
        dense.map((result) => logprobRow(result, result.tokens.length - 1)),
        weights,
      );
      let best = 0;
      for (let token = 1; token < mixed.length; token++) if (mixed[token]! > mixed[best]!) best = token;
      expect(reference.tokens[0]).toBe(best);
      // The mixture differs from each expert alone on this prompt (the test would not notice a lost weight otherwise).
      const alone = await Promise.all(experts.map((expert) => expert.complete!({ prompt, options: { temperature: 0, max_tokens: 12 }, timeoutMs: 60_000 })));
      expect(alone.map((result) => result.text)).not.toEqual([answer.text, answer.text]);
    } finally {
      await Promise.all(decoders.map((decoder) => decoder.close()));
    }
  });

  it("answers chats through alignbench run (the experts' chat template), recording the mix weights per item", async () => {
    const dataset = join(dir, "chat-prompts.jsonl");
    writeJsonl(dataset, [
      { id: "k", prompt: "Be kind to the cat" },
      { id: "o", prompt: "List three numbers" },
    ]);
    const outcome = await run(
      {
        dataset,
        models: `moe:${router([0.5, 0.5])}`,
        run_id: "moe-mix",
        output_dir: dir,
        concurrency: 2,
        base_url: mock.url,
        generation: { max_tokens: 6, temperature: 0 },
        providers: { llamacpp: { threads: 1, gpu: false } },
      },
      { env: {} },
    );
    expect(outcome.counts).toEqual({ ok: 2, error: 0 });
    const rows = readPartials(join(dir, "moe-mix"));
    const weightsOf = (id: string) => {
      const call = rows.find((row) => row.test_id === id)!.transcript.find((entry) => entry.role === "target")!;
      expect(call.details).toMatchObject({ moe: { mode: "mix" } });
      return (call.details!.moe as { weights: Record<string, number> }).weights;
    };
    expect(weightsOf("k")).toEqual({ a: 0.731059, b: 0.268941 });
    expect(weightsOf("o")).toEqual({ a: 0.268941, b: 0.731059 });
    for (const row of rows) {
      expect(row.usage!.output_tokens).toBeGreaterThan(0);
      expect(row.usage!.output_tokens).toBeLessThanOrEqual(6);
    }
  });

  it("with λ = (1, 0) a chat answer is expert a's own greedy chat answer (same chat template, same tokens)", async () => {
    const model = registry().resolve(`moe:${router([1, 0])}`).model;
    const expert = registry().resolve(`llamacpp:${A}`).model;
    const request = {
      messages: [
        { role: "system" as const, content: "You are brief." },
        { role: "user" as const, content: "Tell me about the sea" },
      ],
      options: { temperature: 0, max_tokens: 10 },
      timeoutMs: 60_000,
    };
    const [mixed, own] = [await model.generate(request), await expert.generate(request)];
    expect(mixed.text).toBe(own.text);
    expect(mixed.finishReason).toBe(own.finishReason);
  });

  it("scores log-likelihoods by the mixture: log Σ w_i P_i per continuation token, against each expert's own loglikelihood", async () => {
    const model = registry().resolve(`moe:${router([0.5, 0.5])}`).model;
    const [context, continuation] = ["a kind dog", " sat on the mat"];
    const mixed = await model.loglikelihood!(context, continuation);
    const weights = [Math.E / (Math.E + 1), 1 / (Math.E + 1)];
    const own = await Promise.all([A, B].map((file) => registry().resolve(`llamacpp:${file}`).model.loglikelihood!(context, continuation)));
    expect(mixed.tokens.map((token) => token.token)).toEqual(own[0]!.tokens.map((token) => token.token));
    let expected = 0;
    mixed.tokens.forEach((token, index) => {
      const value = Math.log(weights[0]! * Math.exp(own[0]!.tokens[index]!.logprob) + weights[1]! * Math.exp(own[1]!.tokens[index]!.logprob));
      // The experts' loglikelihood evaluates the text in one batch, the dense rows too, in another split: ulps apart.
      expect(token.logprob).toBeCloseTo(value, 4);
      expected += value;
    });
    expect(mixed.logprob).toBeCloseTo(expected, 4);
    expect(mixed.bos).toBe(own[0]!.bos);
    // With λ = (1, 0) it is expert a's own log-likelihood, greedy flag included.
    const alone = await registry().resolve(`moe:${router([1, 0])}`).model.loglikelihood!(context, continuation);
    expect(alone.logprob).toBeCloseTo(own[0]!.logprob, 4);
    expect(alone.isGreedy).toBe(own[0]!.isGreedy);
  });

  it("top mode asks the routed expert for log-likelihoods", async () => {
    const file = writeRouter("top-local.json", {
      mode: "top",
      embedding: "openai:embedder",
      temperature: 1,
      experts: [
        { name: "a", model: `llamacpp:${A}`, lambda: 0.5, centroid: [1, 0] },
        { name: "b", model: `llamacpp:${B}`, lambda: 0.5, centroid: [0, 1] },
      ],
    });
    const model = registry().resolve(`moe:${file}`).model;
    const [kind, other] = await model.loglikelihoods!([
      { context: "a kind dog", continuation: " ran" },
      { context: "a big dog", continuation: " ran" },
    ]);
    expect(kind).toEqual(await registry().resolve(`llamacpp:${A}`).model.loglikelihood!("a kind dog", " ran"));
    expect(other).toEqual(await registry().resolve(`llamacpp:${B}`).model.loglikelihood!("a big dog", " ran"));
  });

  it("with λ = (1, 0) the mixture is expert a alone", async () => {
    const model = registry().resolve(`moe:${router([1, 0])}`).model;
    const answer = await model.complete!({ prompt: "some words", options: { temperature: 0, max_tokens: 10 }, timeoutMs: 60_000 });
    const expert = registry().resolve(`llamacpp:${A}`).model;
    const decoder = await expert.openDecoder!();
    try {
      expect(answer.text).toBe((await generateMixed([decoder], [1], decoder.textTokens("some words"), { temperature: 0, max_tokens: 10 })).text);
    } finally {
      await decoder.close();
    }
  });

  it.skipIf(!existsSync(STORIES))("refuses experts of different vocabularies (a written model and stories260K), naming them", async () => {
    const file = writeRouter("mixed-vocab.json", {
      mode: "mix",
      embedding: "openai:embedder",
      temperature: 1,
      experts: [
        { name: "a", model: `llamacpp:${A}`, lambda: 1, centroid: [1, 0] },
        { name: "stories", model: `llamacpp:${STORIES}`, lambda: 1, centroid: [0, 1] },
      ],
    });
    await expect(registry().resolve(`moe:${file}`).model.prepare!()).rejects.toThrow(/must share a vocabulary, but llamacpp:.*stories260K\.gguf has another tokenizer/);
  });

  it.skipIf(!existsSync(STORIES))("top mode routes to stories260K by embeddings from a local GGUF model, through alignbench run", async () => {
    const file = writeRouter("local-top.json", {
      mode: "top",
      embedding: `llamacpp:${A}`,
      temperature: 1,
      experts: [
        { name: "stories", model: `llamacpp:${STORIES}`, lambda: 1, centroid: [] as number[] },
        { name: "a", model: `llamacpp:${A}`, lambda: 1, centroid: [] as number[] },
      ],
    });
    // Centroids from the local embedding model itself: expert "stories" is the embedding of a story prompt.
    const embedder = registry().resolve(`llamacpp:${A}`).model;
    const [story, other] = await embedder.embed!(["Once upon a time there was a girl", "zq xv jk"]);
    expect(story!.length).toBe(32);
    const routerJson = JSON.parse(readFileSync(file, "utf8")) as RouterFile;
    routerJson.experts[0]!.centroid = story!;
    routerJson.experts[1]!.centroid = other!;
    writeFileSync(file, JSON.stringify(routerJson));
    const dataset = join(dir, "prompts.jsonl");
    writeJsonl(dataset, [{ id: "p1", prompt: "Once upon a time there was a girl" }]);
    const outcome = await run(
      { dataset, models: `moe:${file}`, run_id: "moe-top", output_dir: dir, concurrency: 1, generation: { max_tokens: 8, temperature: 0 }, providers: { llamacpp: { threads: 1, gpu: false } } },
      { env: {} },
    );
    expect(outcome.counts).toEqual({ ok: 1, error: 0 });
    const [row] = readPartials(join(dir, "moe-top"));
    const call = row!.transcript.find((entry) => entry.role === "target")!;
    expect(call.details).toMatchObject({ moe: { mode: "top", expert: "stories" } });
    const weights = (call.details!.moe as { weights: Record<string, number> }).weights;
    expect(weights.stories).toBeGreaterThan(weights.a!);
  });
});
