import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { joinUrl, redactUrl, splitUserinfo, urlCredentials } from "../../src/providers/url.js";
import { manifestConfig, redactedSettings } from "../../src/results/manifest.js";
import { Redactor } from "../../src/results/redactor.js";
import type { ResultRow } from "../../src/results/record.js";

/** The message of the UserError `fn` throws (a user mistake: exit 2, no stack trace). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error("expected a UserError");
}

describe("model addresses", () => {
  const registry = new ModelRegistry({ env: {} });

  it("refuses an unknown provider prefix with the nearest valid one", () => {
    expect(refusal(() => registry.parseAddress("openia:gpt-4.1"))).toContain("did you mean openai:gpt-4.1?");
    expect(refusal(() => registry.parseAddress("antropic:claude-sonnet-4-5"))).toContain("did you mean anthropic:claude-sonnet-4-5?");
    expect(refusal(() => registry.parseAddress("olama:llama3:8b"))).toContain("did you mean ollama:llama3:8b?");
    // Nothing close: the list of providers, and how to write an id that has a colon.
    const far = refusal(() => registry.parseAddress("zzzzzzzz:model"));
    expect(far).toContain('unknown provider "zzzzzzzz"');
    expect(far).toContain("openai, anthropic, google, openrouter, together, ollama, vllm, lmstudio, llamacpp-server, llamacpp, gguf");
    expect(refusal(() => registry.parseAddress("llama3:8b"))).toContain("put its provider first (ollama:llama3:8b or openai:llama3:8b)");
    expect(refusal(() => registry.parseAddress(":gpt-4.1"))).toContain("no provider before");
  });

  it("keeps bare names on the default endpoint and colons after a known provider in the id", () => {
    expect(registry.parseAddress("gpt-4.1")).toEqual({ providerName: "openai", modelId: "gpt-4.1" });
    expect(registry.parseAddress("ollama:llama3:8b")).toEqual({ providerName: "ollama", modelId: "llama3:8b" });
    expect(registry.parseAddress("ft:gpt-4o-mini-2024-07-18:acme::abc123")).toEqual({ providerName: "openai", modelId: "ft:gpt-4o-mini-2024-07-18:acme::abc123" });
    expect(registry.parseAddress("openrouter:openai/gpt-4o")).toEqual({ providerName: "openrouter", modelId: "openai/gpt-4o" });
    expect(registry.parseAddress("llamacpp:hf:owner/repo/file.gguf")).toEqual({ providerName: "llamacpp", modelId: "hf:owner/repo/file.gguf" });
    const custom = new ModelRegistry({ env: {}, providers: { mybox: { type: "openai", base_url: "http://127.0.0.1:1/v1" } } });
    expect(custom.parseAddress("mybox:a:b")).toEqual({ providerName: "mybox", modelId: "a:b" });
    expect(refusal(() => custom.parseAddress("mybx:a"))).toContain("did you mean mybox:a?");
  });

  it("hints the right form of inspect-style and GGUF references", () => {
    const slash = refusal(() => registry.parseAddress("openai/gpt-4o"));
    expect(slash).toContain("did you mean openai:gpt-4o?");
    expect(slash).toContain("openrouter:openai/gpt-4o");
    expect(refusal(() => registry.parseAddress("anthropic/claude-sonnet-4-5"))).toContain("did you mean anthropic:claude-sonnet-4-5?");
    expect(refusal(() => registry.parseAddress("hf:owner/repo/file.gguf"))).toContain("did you mean llamacpp:hf:owner/repo/file.gguf?");
    expect(refusal(() => registry.parseAddress("./models/tiny.gguf"))).toContain("did you mean llamacpp:./models/tiny.gguf?");
  });

  it("takes openai/gpt-4o as a model id where the default endpoint is another OpenAI-compatible server", () => {
    for (const other of [new ModelRegistry({ env: {}, baseUrl: "https://openrouter.ai/api/v1" }), new ModelRegistry({ env: { OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" } })]) {
      expect(other.parseAddress("openai/gpt-4o")).toEqual({ providerName: "openai", modelId: "openai/gpt-4o" });
      expect(other.parseAddress("meta-llama/Llama-3.1-8B-Instruct")).toEqual({ providerName: "openai", modelId: "meta-llama/Llama-3.1-8B-Instruct" });
    }
  });
});

let closeServer: (() => void) | undefined;
afterEach(() => closeServer?.());

async function server(): Promise<{ base: string; seen: Array<{ url: string; headers: IncomingMessage["headers"] }> }> {
  const seen: Array<{ url: string; headers: IncomingMessage["headers"] }> = [];
  const http = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] }));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  closeServer = () => http.close();
  return { base: `127.0.0.1:${(http.address() as AddressInfo).port}`, seen };
}

const hello = { messages: [{ role: "user" as const, content: "Hi" }], options: {}, timeoutMs: 5000 };

describe("built-in OpenAI-compatible providers", () => {
  it("call their local default address, or the one in their environment variable, without a key", async () => {
    const ollama = new ModelRegistry({ env: {} }).resolve("ollama:llama3:8b");
    expect(ollama.model).toMatchObject({ provider: "ollama", modelId: "llama3:8b" });
    const local = await server();
    const registry = new ModelRegistry({ env: { VLLM_BASE_URL: `http://${local.base}/v1` } });
    await registry.resolve("vllm:meta-llama/Llama-3.1-8B-Instruct").model.generate(hello);
    expect(local.seen[0]!.url).toBe("/v1/chat/completions");
    expect(local.seen[0]!.headers.authorization).toBeUndefined();
  });

  it("need their key at their hosted default, and name the variable", () => {
    expect(refusal(() => new ModelRegistry({ env: {} }).resolve("openrouter:openai/gpt-4o"))).toContain("set OPENROUTER_API_KEY");
    expect(refusal(() => new ModelRegistry({ env: {} }).resolve("together:meta-llama/Llama-3-8b-chat-hf"))).toContain("set TOGETHER_API_KEY");
    expect(() => new ModelRegistry({ env: { TOGETHER_API_KEY: "tg-key-123456" } }).resolve("together:m")).not.toThrow();
  });
});

describe("base URLs", () => {
  it("append paths before the query string", () => {
    expect(joinUrl("https://host/openai/v1?api-version=2024-06-01", "/chat/completions")).toBe("https://host/openai/v1/chat/completions?api-version=2024-06-01");
    expect(joinUrl("https://host/v1/", "/completions")).toBe("https://host/v1/completions");
    expect(joinUrl("http://host", "/v1/messages")).toBe("http://host/v1/messages");
    expect(joinUrl("https://host/v1beta?key=k", "/models/gemini:generateContent")).toBe("https://host/v1beta/models/gemini:generateContent?key=k");
  });

  it("are shown and stored without userinfo or query values", () => {
    expect(redactUrl("https://user:pw123456@host/v1?api-key=qk987654321&api-version=2024-06-01")).toBe("https://host/v1?api-key=[REDACTED]&api-version=2024-06-01");
    expect(redactUrl("http://127.0.0.1:8000/v1")).toBe("http://127.0.0.1:8000/v1");
    expect(redactUrl("hf:datasets/owner/repo/file.jsonl")).toBe("hf:datasets/owner/repo/file.jsonl");
    expect(redactUrl("https://host/data.csv?X-Amz-Signature=abcdef123456")).toBe("https://host/data.csv?X-Amz-Signature=[REDACTED]");
    expect(urlCredentials("https://us%40er:p%2Fw123456@host/v1?key=abc%2Fdef123")).toEqual(expect.arrayContaining(["us%40er", "p%2Fw123456", "abc%2Fdef123", "abc/def123", "us@er", "p/w123456"]));
    expect(urlCredentials("https://host/openai/v1?api-version=2024-06-01&api-key=qk987654321")).toEqual(["qk987654321"]);
    expect(splitUserinfo("https://user:pw123456@host/v1?x=1")).toEqual({ url: "https://host/v1?x=1", authorization: `Basic ${Buffer.from("user:pw123456").toString("base64")}` });
  });

  it("keep working with a query string and credentials: every provider sends the path before the query, userinfo as Basic authorization", async () => {
    const local = await server();
    const base = `http://user:pw123456@${local.base}/openai/v1?api-version=2024-06-01`;
    const registry = new ModelRegistry({ env: {}, providers: { azure: { type: "openai", base_url: base } } });
    await registry.resolve("azure:gpt-4o").model.generate(hello);
    await registry.resolve("azure:gpt-4o").model.loglikelihood!("a", "b").catch(() => undefined);
    expect(local.seen.map((request) => request.url)).toEqual(["/openai/v1/chat/completions?api-version=2024-06-01", "/openai/v1/completions?api-version=2024-06-01"]);
    expect(local.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from("user:pw123456").toString("base64")}`);
    expect(registry.secrets()).toEqual(expect.arrayContaining(["pw123456"]));
    expect(registry.secrets()).not.toContain("2024-06-01"); // api-version is public
    for (const [type, model, path] of [
      ["anthropic", "anthropic:c", "/openai/v1/v1/messages?api-version=2024-06-01"],
      ["google", "google:g", "/openai/v1/models/g:generateContent?api-version=2024-06-01"],
    ] as const) {
      const other = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "ak-123456", GEMINI_API_KEY: "gk-123456" }, providers: { [type]: { base_url: base } } });
      await other
        .resolve(model)
        .model.generate(hello)
        .catch(() => undefined);
      expect(local.seen.at(-1)!.url).toBe(path);
    }
  });

  it("name the endpoint in errors without its credentials", async () => {
    const registry = new ModelRegistry({ env: {}, providers: { box: { type: "openai", base_url: "http://user:pw123456@127.0.0.1:1/v1?api-key=qk987654321" } } });
    const error = (await registry
      .resolve("box:m")
      .model.generate({ ...hello, timeoutMs: 2000 })
      .catch((failure: unknown) => failure)) as Error;
    expect(error.message).not.toContain("qk987654321");
    expect(error.message).not.toContain("pw123456");
  });
});

describe("secrets", () => {
  it("are every header value and URL credential, whatever the header is called", () => {
    const registry = new ModelRegistry({
      env: { OPENAI_API_KEY: "sk-key-123456" },
      providers: { openai: { base_url: "http://u:pw123456@127.0.0.1:9/v1?api-key=qk987654321", headers: { "X-Custom": "s3cr3tvalue99", "X-Auth": "Bearer tok-123456789" } } },
    });
    registry.resolve("gpt-4.1");
    expect(registry.secrets()).toEqual(expect.arrayContaining(["sk-key-123456", "s3cr3tvalue99", "Bearer tok-123456789", "tok-123456789", "pw123456", "qk987654321"]));
  });

  it("are scrubbed from a row's error messages only, never from its prompt or response", () => {
    const redactor = new Redactor(["ollama", "s3cr3tvalue99"]);
    const row = {
      messages: [{ role: "user", content: "Is ollama a good way to run models? s3cr3tvalue99" }],
      raw_candidate: "Yes, ollama runs models locally.",
      transcript: [{ role: "target", model: "m", messages: [], response: "ollama", usage: null, latency_ms: 1, finish_reason: "stop", error: "HTTP 401: bad key ollama" }],
      scores: { verdict: { value: null, label: null, raw: "ollama says", error: "judge failed: s3cr3tvalue99" } },
      error: "HTTP 401: header s3cr3tvalue99 refused",
    } as unknown as ResultRow;
    const clean = redactor.scrubRow(row);
    expect(clean.messages).toBe(row.messages);
    expect(clean.raw_candidate).toBe("Yes, ollama runs models locally.");
    expect(clean.transcript[0]).toMatchObject({ response: "ollama", error: "HTTP 401: bad key [REDACTED]" });
    expect(clean.scores!.verdict).toMatchObject({ raw: "ollama says", error: "judge failed: [REDACTED]" });
    expect(clean.error).toBe("HTTP 401: header [REDACTED] refused");
    expect(row.error).toBe("HTTP 401: header s3cr3tvalue99 refused"); // the row itself is untouched
  });

  it("stay out of the manifest's config, which still says what was set", () => {
    const config = manifestConfig({
      base_url: "http://user:pw123456@127.0.0.1:9/v1?api-key=qk987654321",
      providers: { vllm: { type: "openai", base_url: "https://host/v1?key=abc123456", headers: { "X-Custom": "s3cr3tvalue99" }, max_concurrency: 4 } },
      epochs: 2,
    });
    expect(config).toEqual({
      base_url: "http://127.0.0.1:9/v1?api-key=[REDACTED]",
      providers: { vllm: { type: "openai", base_url: "https://host/v1?key=[REDACTED]", headers: { "X-Custom": "[REDACTED]" }, max_concurrency: 4 } },
      epochs: 2,
    });
    expect(redactedSettings(config)).toEqual(["base_url", "providers.vllm.base_url", "providers.vllm.headers.X-Custom"]);
    expect(redactedSettings(manifestConfig({ base_url: "http://127.0.0.1:9/v1", providers: {} }))).toEqual([]);
  });
});
