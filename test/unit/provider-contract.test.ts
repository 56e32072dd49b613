import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logprobRow, logSoftmaxInPlace, logSumExp, topTokens } from "../../src/providers/dense-logprobs.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import type { LanguageModel, TokenLogprobs } from "../../src/providers/types.js";
import { sameVocabulary, vocabularyFingerprint } from "../../src/providers/vocabulary.js";
import { hasShared, startSharedMock } from "../helpers/shared.js";

// A completions server that echoes prompts split into whitespace-led words, each with log-probability
// -(its length)/10 and an alternative "<alt>" at -5. Model "lists" takes a list of prompts (answering its
// choices in reverse order, each with its index, as a server may); "single" refuses lists with a 400, as a
// server that takes one prompt a request does.
const words = (text: string) => text.match(/\s*\S+/g) ?? [];
const logprobOf = (token: string) => -token.length / 10;
const requests: Array<{ model: string; prompts: number }> = [];
let base = "";
let close: () => void;

function echo(prompt: string) {
  const tokens = words(prompt);
  let offset = 0;
  const offsets = tokens.map((token) => {
    const start = offset;
    offset += token.length;
    return start;
  });
  return {
    tokens,
    token_logprobs: tokens.map((token, index) => (index === 0 ? null : logprobOf(token))),
    top_logprobs: tokens.map((token, index) => (index === 0 ? null : { [token]: logprobOf(token), "<alt>": -5 })),
    text_offset: offsets,
  };
}

beforeAll(async () => {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk));
    req.on("end", () => {
      const request = JSON.parse(body) as { prompt: string | string[]; echo?: boolean; model: string };
      const prompts = Array.isArray(request.prompt) ? request.prompt : [request.prompt];
      requests.push({ model: request.model, prompts: prompts.length });
      if (Array.isArray(request.prompt) && request.model === "single") {
        res.writeHead(400, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: "prompt must be a string" } }));
      }
      const choices = prompts.map((prompt, index) => ({ index, text: prompt, logprobs: echo(prompt) })).reverse();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  close = () => server.close();
});
afterAll(() => close());

function model(id: string): LanguageModel {
  return new ModelRegistry({ env: {}, providers: { vllm: { type: "openai", base_url: base } } }).resolve(`vllm:${id}`).model;
}

const BATCH = [
  { context: "The capital of France is", continuation: " Paris" },
  { context: "The capital of France is", continuation: " Lyon, of course" },
  { context: "Question: is the sky blue? Answer:", continuation: " yes" },
  ...Array.from({ length: 70 }, (_, index) => ({ context: `Item ${index} says`, continuation: ` ${"x".repeat(1 + (index % 5))}` })),
];

describe("batched log-likelihoods through an OpenAI-compatible completions endpoint", () => {
  it("sends the batch as lists of prompts and gives what single calls give, in order", async () => {
    const m = model("lists");
    const alone = await Promise.all(BATCH.map((request) => m.loglikelihood!(request.context, request.continuation)));
    requests.length = 0;
    const together = await m.loglikelihoods!(BATCH);
    expect(together).toEqual(alone);
    expect(together[1]!.tokens.map((t) => t.token)).toEqual([" Lyon,", " of", " course"]);
    expect(together[1]!.logprob).toBeCloseTo(-(6 + 3 + 7) / 10, 10);
    // 73 prompts: two requests (64 + 9), not 73.
    expect(requests.map((request) => request.prompts).sort((a, b) => a - b)).toEqual([9, 64]);
    expect(await m.loglikelihoods!([])).toEqual([]);
  });

  it("falls back to one prompt a request, several at once, when the server refuses lists", async () => {
    const m = model("single");
    const alone = await Promise.all(BATCH.slice(0, 5).map((request) => m.loglikelihood!(request.context, request.continuation)));
    requests.length = 0;
    expect(await m.loglikelihoods!(BATCH.slice(0, 5))).toEqual(alone);
    expect(requests.filter((request) => request.prompts > 1)).toHaveLength(1); // tried once
    expect(requests.filter((request) => request.prompts === 1)).toHaveLength(5);
    requests.length = 0;
    await m.loglikelihoods!(BATCH.slice(0, 5));
    expect(requests.every((request) => request.prompts === 1)).toBe(true); // remembered
  });

  it("says clearly when a server cannot echo log-probabilities", async () => {
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ text: "" }] })));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const m = new ModelRegistry({ env: {}, providers: { plain: { type: "openai", base_url: url } } }).resolve("plain:x").model;
      await expect(m.loglikelihoods!(BATCH.slice(0, 3))).rejects.toThrow(/did not echo the prompt with log-probabilities/);
    } finally {
      server.close();
    }
  });

  it.skipIf(!hasShared)("works against the shared benchmark mock, which reads one prompt a request", async () => {
    const mock = await startSharedMock();
    try {
      const m = new ModelRegistry({ env: {}, baseUrl: mock.url }).resolve("mock-target").model;
      const batch = [
        { context: "Once upon a time", continuation: " there was a dragon" },
        { context: "Once upon a time", continuation: " there was a princess" },
        { context: "The end", continuation: " of the story" },
      ];
      const alone = await Promise.all(batch.map((request) => m.loglikelihood!(request.context, request.continuation)));
      expect(await m.loglikelihoods!(batch)).toEqual(alone);
    } finally {
      mock.stop();
    }
  });

  it("HTTP models without a tokenizer or dense distributions leave those capabilities out", () => {
    const m = model("lists");
    expect(m.tokenize).toBeUndefined();
    expect(m.tokenLogprobs).toBeUndefined();
    const anthropic = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "key-123456" } }).resolve("anthropic:claude").model;
    expect(anthropic.loglikelihoods).toBeUndefined();
  });
});

describe("dense log-probability helpers", () => {
  it("log-softmax is stable for huge and tiny logits and sums to one", () => {
    const row = Float32Array.from([1000, 999, 998, -1e30, 0]);
    logSoftmaxInPlace(row);
    expect(Math.abs(logSumExp(row))).toBeLessThan(1e-6);
    expect(row[0]).toBeCloseTo(-Math.log(1 + Math.exp(-1) + Math.exp(-2)), 5);
    expect(row.every((value) => !Number.isNaN(value))).toBe(true);
    const low = Float32Array.from([-2000, -2001]);
    logSoftmaxInPlace(low);
    expect(low[0]).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 5);
  });

  it("top tokens come most likely first, ties by id, by either path", () => {
    const row = Float32Array.from([0.1, 0.5, 0.3, 0.5, -1, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(topTokens(row, 3)).toEqual([1, 3, 2]); // 3 × 8 > 20: sorting
    expect(topTokens(row, 2)).toEqual([1, 3]); // 2 × 8 < 20: selection
    expect(topTokens(row, 1)).toEqual([1]);
    expect(topTokens(row, Infinity)).toHaveLength(20);
    expect(topTokens(row, 0)).toEqual([]);
  });

  it("reads a row of a dense result as a view", () => {
    const result: TokenLogprobs = { tokens: Uint32Array.from([1, 2]), logprobs: Float32Array.from([1, 2, 3, 4, 5, 6]), vocabSize: 3 };
    expect([...logprobRow(result, 1)]).toEqual([4, 5, 6]);
    expect(logprobRow(result, 1).buffer).toBe(result.logprobs.buffer);
    expect(() => logprobRow(result, 2)).toThrow(RangeError);
  });
});

describe("vocabulary fingerprints", () => {
  it("depend on the tokens, their order, the merges and the tokenizer kind, and nothing else", () => {
    const one = vocabularyFingerprint({ model: "llama", tokens: ["<unk>", "ab", "c"] });
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(vocabularyFingerprint({ model: "llama", tokens: ["<unk>", "ab", "c"] })).toBe(one);
    expect(vocabularyFingerprint({ model: "llama", tokens: ["<unk>", "a", "bc"] })).not.toBe(one);
    expect(vocabularyFingerprint({ model: "llama", tokens: ["<unk>", "c", "ab"] })).not.toBe(one);
    expect(vocabularyFingerprint({ model: "gpt2", tokens: ["<unk>", "ab", "c"] })).not.toBe(one);
    expect(vocabularyFingerprint({ model: "llama", tokens: ["<unk>", "ab", "c"], merges: ["a b"] })).not.toBe(one);
    expect(vocabularyFingerprint({ model: "llama", tokens: ["<unk>", "ab", "c"], merges: [] })).toBe(one);
  });

  it("sameVocabulary compares models, tokenize results or fingerprints, and refuses a model without a tokenizer", async () => {
    const a = vocabularyFingerprint({ tokens: ["x"] });
    const b = vocabularyFingerprint({ tokens: ["y"] });
    expect(await sameVocabulary(a, a)).toBe(true);
    expect(await sameVocabulary({ ids: [1], fingerprint: a }, a)).toBe(true);
    expect(await sameVocabulary(a, b)).toBe(false);
    const fake = (fingerprint: string): LanguageModel => ({ ...model("lists"), tokenize: async () => ({ ids: [], fingerprint }) });
    expect(await sameVocabulary(fake(a), fake(a))).toBe(true);
    expect(await sameVocabulary(fake(a), fake(b))).toBe(false);
    await expect(sameVocabulary(model("lists"), fake(a))).rejects.toThrow(/does not expose its tokenizer/);
  });
});
