import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../src/providers/registry.js";
import { parseRetryAfter } from "../../src/providers/http.js";
import { backoffDelay } from "../../src/runner/retry.js";
import { RateLimiter } from "../../src/runner/rate-limiter.js";

interface Captured {
  url: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

let close: (() => void) | undefined;
afterEach(() => close?.());

async function serve(answer: (captured: Captured) => unknown): Promise<{ base: string; seen: Captured[] }> {
  const seen: Captured[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk));
    req.on("end", () => {
      const captured = { url: req.url ?? "", headers: req.headers, body: JSON.parse(text) as Record<string, unknown> };
      seen.push(captured);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer(captured)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => server.close();
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const messages = [
  { role: "system" as const, content: "Be safe." },
  { role: "user" as const, content: "Hi" },
];

describe("model addresses", () => {
  const registry = new ModelRegistry({ env: {}, providers: { vllm: { type: "openai", base_url: "http://127.0.0.1:1/v1" } } });
  it("splits provider:model only for known providers", () => {
    expect(registry.parseAddress("gpt-4.1")).toEqual({ providerName: "openai", modelId: "gpt-4.1" });
    expect(registry.parseAddress("google:gemini-2.0-flash")).toEqual({ providerName: "google", modelId: "gemini-2.0-flash" });
    expect(registry.parseAddress("vllm:meta/llama:8b")).toEqual({ providerName: "vllm", modelId: "meta/llama:8b" });
    expect(registry.parseAddress("ollama:llama3:8b")).toEqual({ providerName: "ollama", modelId: "llama3:8b" });
    // An unknown prefix is no longer taken for an OpenAI model id (model-addresses.test.ts).
    expect(() => registry.parseAddress("llama3:8b")).toThrow(/unknown provider "llama3"/);
  });
  it("needs a key for the official endpoints only", () => {
    expect(() => registry.resolve("gpt-4.1")).toThrow(/set OPENAI_API_KEY/);
    expect(() => registry.resolve("vllm:any")).not.toThrow();
  });
});

describe("Anthropic provider", () => {
  it("speaks the Messages API: system apart, x-api-key, default max_tokens", async () => {
    const server = await serve(() => ({
      content: [
        { type: "text", text: "Hello " },
        { type: "text", text: "there" },
      ],
      stop_reason: "end_turn",
      usage: { input_tokens: 12, output_tokens: 3 },
    }));
    const registry = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "ant-key-123456" }, providers: { anthropic: { base_url: server.base } } });
    const result = await registry.resolve("anthropic:claude-test").model.generate({ messages, options: { temperature: 0.2, top_p: 0.9 }, timeoutMs: 5000 });
    expect(result).toMatchObject({ text: "Hello there", finishReason: "end_turn", usage: { input_tokens: 12, output_tokens: 3 } });
    const request = server.seen[0]!;
    expect(request.url).toBe("/v1/messages");
    expect(request.headers["x-api-key"]).toBe("ant-key-123456");
    expect(request.body).toMatchObject({ model: "claude-test", system: "Be safe.", max_tokens: 1024, temperature: 0.2, top_p: 0.9, messages: [{ role: "user", content: "Hi" }] });
  });

  it("has no plain completion: the Messages API only chats", () => {
    const registry = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "ant-key-123456" }, providers: { anthropic: { base_url: "http://127.0.0.1:1" } } });
    expect(registry.resolve("anthropic:claude-test").model.complete).toBeUndefined();
  });
});

describe("Google provider", () => {
  it("speaks generateContent: systemInstruction, model role, JSON mode for judges", async () => {
    const server = await serve(() => ({ candidates: [{ content: { parts: [{ text: '{"ok":true}' }] }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2 } }));
    const registry = new ModelRegistry({ env: { GEMINI_API_KEY: "gem-key-123456" }, providers: { google: { base_url: server.base } } });
    const result = await registry.resolve("google:gemini-2.0-flash").model.generate({
      messages: [...messages, { role: "assistant", content: "Hey" }, { role: "user", content: "Again" }],
      options: { max_tokens: 50, seed: 3, top_p: 0.9 },
      responseFormat: { type: "json_object" },
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ text: '{"ok":true}', finishReason: "STOP", usage: { input_tokens: 5, output_tokens: 2 } });
    const request = server.seen[0]!;
    expect(request.url).toBe("/models/gemini-2.0-flash:generateContent");
    expect(request.headers["x-goog-api-key"]).toBe("gem-key-123456");
    expect(request.body).toMatchObject({
      systemInstruction: { parts: [{ text: "Be safe." }] },
      contents: [{ role: "user" }, { role: "model" }, { role: "user" }],
      generationConfig: { maxOutputTokens: 50, seed: 3, topP: 0.9, responseMimeType: "application/json" },
    });
    expect(registry.resolve("google:gemini-2.0-flash").model.complete).toBeUndefined();
  });
});

describe("OpenAI-compatible provider", () => {
  it("sends headers and options, and returns log-probabilities when asked", async () => {
    const server = await serve(() => ({
      choices: [
        {
          message: { content: "yes" },
          finish_reason: "stop",
          logprobs: {
            content: [
              {
                token: "yes",
                logprob: -0.1,
                top_logprobs: [
                  { token: "yes", logprob: -0.1 },
                  { token: "no", logprob: -2.4 },
                ],
              },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 1 },
    }));
    const registry = new ModelRegistry({
      env: { MY_KEY: "my-key-123456" },
      providers: { local: { type: "openai", base_url: server.base + "/v1", api_key_env: "MY_KEY", headers: { "X-Team": "safety" } } },
    });
    const result = await registry.resolve("local:qwen").model.generate({ messages, options: { top_p: 0.9, stop: ["\n"] }, topLogprobs: 2, timeoutMs: 5000 });
    expect(result.logprobs).toEqual([
      {
        token: "yes",
        logprob: -0.1,
        top: [
          { token: "yes", logprob: -0.1 },
          { token: "no", logprob: -2.4 },
        ],
      },
    ]);
    const request = server.seen[0]!;
    expect(request.headers).toMatchObject({ authorization: "Bearer my-key-123456", "x-team": "safety" });
    expect(request.body).toMatchObject({ model: "qwen", top_p: 0.9, stop: ["\n"], logprobs: true, top_logprobs: 2 });
    // Every header value counts, whatever the header is called.
    expect(registry.secrets().sort()).toEqual(["my-key-123456", "safety"]);
  });
});

describe("OpenAI-compatible plain completion", () => {
  it("posts the prompt verbatim to /completions with every sampling option, and reads choices[0].text", async () => {
    const server = await serve(() => ({ choices: [{ index: 0, text: " and then it rained.", finish_reason: "length" }], usage: { prompt_tokens: 7, completion_tokens: 5 } }));
    const registry = new ModelRegistry({ env: {}, providers: { local: { type: "openai", base_url: server.base + "/v1?api-version=1" } } });
    const model = registry.resolve("local:gpt2").model;
    const prompt = "  She said “no”, then\n";
    const result = await model.complete!({ prompt, options: { temperature: 1, top_p: 0.9, max_tokens: 20, seed: 4, stop: ["\n\n"] }, timeoutMs: 5000 });
    expect(result).toMatchObject({ text: " and then it rained.", finishReason: "length", usage: { input_tokens: 7, output_tokens: 5 } });
    const request = server.seen[0]!;
    expect(request.url).toBe("/v1/completions?api-version=1");
    expect(request.body).toEqual({ model: "gpt2", prompt, temperature: 1, top_p: 0.9, max_tokens: 20, seed: 4, stop: ["\n\n"] });
  });

  it("says so when the endpoint answers in another shape (a chat answer has no choices[0].text)", async () => {
    const server = await serve(() => ({ choices: [{ message: { content: "hi" }, finish_reason: "stop" }] }));
    const registry = new ModelRegistry({ env: {}, providers: { local: { type: "openai", base_url: server.base + "/v1" } } });
    await expect(registry.resolve("local:m").model.complete!({ prompt: "x", options: {}, timeoutMs: 5000 })).rejects.toThrow(/without choices\[0\]\.text \(is it a completions endpoint\?\)/);
  });
});

describe("retry policy", () => {
  it("backs off exponentially with jitter and honours Retry-After", () => {
    const policy = { retries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };
    expect(backoffDelay(policy, 0, undefined, () => 0)).toBe(250);
    expect(backoffDelay(policy, 0, undefined, () => 1)).toBe(500);
    expect(backoffDelay(policy, 3, undefined, () => 1)).toBe(4000);
    expect(backoffDelay(policy, 20, undefined, () => 1)).toBe(30_000);
    expect(backoffDelay(policy, 0, 7000, () => 0.5)).toBe(7000);
  });
  it("parses Retry-After as seconds or as a date", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(5000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("rate limiter", () => {
  it("spaces requests 1/rps apart", async () => {
    const limiter = new RateLimiter(50);
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 26 }, async () => {
        await limiter.acquire();
        times.push(performance.now());
      }),
    );
    const rate = 25 / ((times[25]! - times[0]!) / 1000);
    expect(Math.abs(rate - 50) / 50).toBeLessThan(0.1);
  });
});
