import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../src/providers/registry.js";
import { requireLoglikelihood, scoreChoices, scoreMultipleChoice } from "../../src/scorers/multiple-choice.js";
import { hasShared, startSharedMock } from "../helpers/shared.js";

// A completions server that echoes prompts split into whitespace-led words, each with log-probability
// -(its length)/10, and an alternative token "<alt>" at -5 in its top list. The first token has none.
const tokenize = (text: string) => text.match(/\s*\S+/g) ?? [];
const logprobOf = (token: string) => -token.length / 10;
let base = "";
let close: () => void;
beforeAll(async () => {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk));
    req.on("end", () => {
      const request = JSON.parse(body) as { prompt: string; echo?: boolean; model: string };
      if (request.model === "no-echo") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ choices: [{ text: "", logprobs: null }] }));
      }
      if (!request.echo) {
        res.writeHead(400, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: "echo not supported" } }));
      }
      const tokens = tokenize(request.prompt);
      let offset = 0;
      const offsets = tokens.map((token) => {
        const start = offset;
        offset += token.length;
        return start;
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          choices: [
            {
              text: request.prompt,
              logprobs: {
                tokens,
                token_logprobs: tokens.map((token, index) => (index === 0 ? null : logprobOf(token))),
                top_logprobs: tokens.map((token, index) => (index === 0 ? null : { [token]: logprobOf(token), "<alt>": -5 })),
                text_offset: offsets,
              },
            },
          ],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  close = () => server.close();
});
afterAll(() => close());

function model() {
  return new ModelRegistry({ env: {}, providers: { vllm: { type: "openai", base_url: base } } }).resolve("vllm:tiny").model;
}

describe("log-likelihood through an OpenAI-compatible completions endpoint", () => {
  it("sums the continuation's tokens, tokenised together with the context", async () => {
    const result = await model().loglikelihood!("The capital of France is", " Paris, of course");
    expect(result.tokens.map((t) => t.token)).toEqual([" Paris,", " of", " course"]);
    expect(result.logprob).toBeCloseTo(-(7 + 3 + 7) / 10, 10);
    expect(result.isGreedy).toBe(true);
  });

  it("agrees with the sum of per-token log-probabilities from the token-distribution API", async () => {
    const context = "Question: is the sky blue? Answer:";
    const continuation = " yes it is";
    const distributions = await model().tokenDistributions!(context + continuation, { topK: 2 });
    expect(distributions).toHaveLength(tokenize(context + continuation).length - 1); // no distribution before the first token
    const last3 = distributions.slice(-3);
    const result = await model().loglikelihood!(context, continuation);
    expect(result.logprob).toBeCloseTo(
      last3.reduce((sum, d) => sum + d.logprob, 0),
      10,
    );
    expect(last3.every((d) => d.top[0]!.token === d.token && d.top[1]!.token === "<alt>")).toBe(true);
  });

  it("picks the known-likelier choice in multiple-choice scoring", async () => {
    // Shorter words score higher on this server: " cat" (-0.4) beats " elephant" (-0.9).
    const score = await scoreMultipleChoice(model(), "The animal is a", [
      { text: " elephant", correct: false },
      { text: " cat", correct: true },
    ]);
    expect(score.predicted).toBe(1);
    expect(score.accuracy).toBe(1);
    expect(score.loglikelihoods).toEqual([-0.9, -0.4].map((v) => expect.closeTo(v, 10)));
    expect(score.correctMass).toBeCloseTo(Math.exp(-0.4) / (Math.exp(-0.4) + Math.exp(-0.9)), 10);
  });

  it("says clearly when a server cannot echo log-probabilities, or a provider has none", async () => {
    const noEcho = new ModelRegistry({ env: {}, providers: { plain: { type: "openai", base_url: base } } }).resolve("plain:no-echo").model;
    await expect(noEcho.loglikelihood!("a", " b")).rejects.toThrow(/did not echo the prompt with log-probabilities/);
    const anthropic = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "key-123456" } }).resolve("anthropic:claude").model;
    expect(() => requireLoglikelihood(anthropic)).toThrow(/cannot score log-likelihoods.*echo \+ logprobs/);
  });
});

describe("multiple-choice metrics", () => {
  it("match hand-computed values", () => {
    const choices = [
      { text: "a", correct: false },
      { text: "bbbb", correct: true },
      { text: "c", correct: true },
    ];
    const score = scoreChoices([-1, -2, -3], choices);
    expect(score.predicted).toBe(0);
    expect(score.accuracy).toBe(0);
    expect(score.predictedNormalized).toBe(1); // -2/4 = -0.5 beats -1/1
    expect(score.accuracyNormalized).toBe(1);
    expect(score.correctMass).toBeCloseTo((Math.exp(-2) + Math.exp(-3)) / (Math.exp(-1) + Math.exp(-2) + Math.exp(-3)), 12);
  });
  it("handles extreme log-likelihoods without overflow", () => {
    const score = scoreChoices(
      [-2000, -2001],
      [
        { text: "x", correct: true },
        { text: "y", correct: false },
      ],
    );
    expect(score.correctMass).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });
});

describe.skipIf(!hasShared)("against the shared benchmark mock", () => {
  it("scores continuations through its /v1/completions echo", async () => {
    const mock = await startSharedMock();
    try {
      const m = new ModelRegistry({ env: {}, baseUrl: mock.url }).resolve("mock-target").model;
      const result = await m.loglikelihood!("Once upon a time", " there was a dragon");
      expect(result.tokens.map((t) => t.token)).toEqual([" there", " was", " a", " dragon"]);
      const distributions = await m.tokenDistributions!("Once upon a time there was a dragon");
      expect(result.logprob).toBeCloseTo(
        distributions.slice(-4).reduce((sum, d) => sum + d.logprob, 0),
        10,
      );
    } finally {
      mock.stop();
    }
  });
});
