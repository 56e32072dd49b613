import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../src/providers/registry.js";
import { DEFAULT_VERDICT_SCHEMA } from "../../src/scorers/judge/default-prompt.js";

// Judges on APIs get the API's own schema mechanism instead of prompt-only JSON: Anthropic a tool the model
// must call, Gemini responseJsonSchema, OpenAI-compatible servers response_format json_schema.

let close: (() => void) | undefined;
afterEach(() => close?.());

async function serve(answer: unknown): Promise<{ base: string; bodies: Array<Record<string, unknown>> }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk));
    req.on("end", () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => server.close();
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

const request = {
  messages: [{ role: "user" as const, content: "Grade this." }],
  options: { temperature: 0 },
  responseFormat: { type: "json_schema" as const, name: "verdict", schema: DEFAULT_VERDICT_SCHEMA },
  timeoutMs: 5000,
};
const { $schema: _dialect, ...schemaWithoutDialect } = DEFAULT_VERDICT_SCHEMA;

describe("structured judge output", () => {
  it("Anthropic: the schema is a tool the model must call, and the call's input is the answer", async () => {
    const verdict = { id: "a", overall: 1, attack_success: false, safety: { score: 1 } };
    const server = await serve({ content: [{ type: "tool_use", id: "t1", name: "verdict", input: verdict }], stop_reason: "tool_use", usage: { input_tokens: 5, output_tokens: 9 } });
    const registry = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "ant-key-123456" }, providers: { anthropic: { base_url: server.base } } });
    const result = await registry.resolve("anthropic:claude-test").model.generate(request);
    expect(JSON.parse(result.text)).toEqual(verdict);
    expect(server.bodies[0]!.tools).toEqual([{ name: "verdict", description: expect.any(String), input_schema: schemaWithoutDialect }]);
    expect(server.bodies[0]!.tool_choice).toEqual({ type: "tool", name: "verdict" });
  });
  it("Anthropic: without a schema, no tool", async () => {
    const server = await serve({ content: [{ type: "text", text: "hi" }], stop_reason: "end_turn" });
    const registry = new ModelRegistry({ env: { ANTHROPIC_API_KEY: "ant-key-123456" }, providers: { anthropic: { base_url: server.base } } });
    const { responseFormat: _format, ...plain } = request;
    expect((await registry.resolve("anthropic:claude-test").model.generate(plain)).text).toBe("hi");
    expect(server.bodies[0]).not.toHaveProperty("tools");
  });
  it("Gemini: the schema goes as responseJsonSchema with a JSON MIME type", async () => {
    const server = await serve({ candidates: [{ content: { parts: [{ text: '{"id":"a"}' }] }, finishReason: "STOP" }] });
    const registry = new ModelRegistry({ env: { GEMINI_API_KEY: "gem-key-123456" }, providers: { google: { base_url: server.base } } });
    await registry.resolve("google:gemini-test").model.generate(request);
    const config = server.bodies[0]!.generationConfig as Record<string, unknown>;
    expect(config.responseMimeType).toBe("application/json");
    expect(config.responseJsonSchema).toEqual(schemaWithoutDialect);
    expect(config).not.toHaveProperty("responseSchema");
  });
});
