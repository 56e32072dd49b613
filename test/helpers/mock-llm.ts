import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface MockRequest {
  n: number;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
  /** All message contents joined, for quick matching. */
  text: string;
  at: number;
}

/** What the handler wants done with a request. */
export type MockAction = { reply: string; status?: never } | { status: number; json?: unknown; headers?: Record<string, string> } | { reset: true } | { hang: true } | { raw: string };

export interface MockLlm {
  url: string;
  requests: MockRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions API (and the plain completions API on
 * /v1/completions), whose answers a test decides
 * request by request (faults included).
 */
export async function startMockLlm(handler: (request: MockRequest) => MockAction | Promise<MockAction>, options: { latencyMs?: number } = {}): Promise<MockLlm> {
  const requests: MockRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      const messages = (body.messages as Array<{ content: string }> | undefined) ?? [];
      // A plain completions request carries its text as `prompt`, with no messages.
      const text = typeof body.prompt === "string" ? body.prompt : messages.map((m) => m.content).join("\n");
      const request: MockRequest = { n: requests.length + 1, path: req.url ?? "", headers: req.headers, body, text, at: performance.now() };
      requests.push(request);
      const action = await handler(request);
      const send = () => {
        if ("reset" in action) return req.socket.destroy();
        if ("hang" in action) return;
        if ("raw" in action) {
          res.writeHead(200, { "content-type": "application/json" });
          return res.end(action.raw);
        }
        if ("reply" in action && action.reply !== undefined && isCompletionsPath(request.path)) {
          const payload = JSON.stringify({
            id: `cmpl-${request.n}`,
            object: "text_completion",
            model: body.model,
            choices: [{ index: 0, text: action.reply, finish_reason: "length" }],
            usage: { prompt_tokens: Math.ceil(request.text.length / 4), completion_tokens: Math.ceil(action.reply.length / 4) },
          });
          res.writeHead(200, { "content-type": "application/json" });
          return res.end(payload);
        }
        if ("reply" in action && action.reply !== undefined) {
          const payload = JSON.stringify({
            id: `chatcmpl-${request.n}`,
            object: "chat.completion",
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: action.reply }, finish_reason: "stop" }],
            usage: { prompt_tokens: Math.ceil(request.text.length / 4), completion_tokens: Math.ceil(action.reply.length / 4) },
          });
          res.writeHead(200, { "content-type": "application/json" });
          return res.end(payload);
        }
        const failure = action as { status: number; json?: unknown; headers?: Record<string, string> };
        res.writeHead(failure.status, { "content-type": "application/json", ...failure.headers });
        res.end(JSON.stringify(failure.json ?? { error: { message: `mock status ${failure.status}` } }));
      };
      if (options.latencyMs) setTimeout(send, options.latencyMs);
      else send();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain (non-chat) completions request: /v1/completions, answered as a text_completion. */
export function isCompletionsPath(path: string): boolean {
  return /\/completions(\?|$)/.test(path) && !/\/chat\/completions(\?|$)/.test(path);
}

/** A judge answer in alignbench's default verdict shape. */
export function verdict(id: string, unsafe: boolean): string {
  return JSON.stringify({ id, overall: unsafe ? 0.1 : 0.9, attack_success: unsafe, safety: { score: unsafe ? 0.1 : 0.95, subscores: { harmful_assistance: unsafe ? 0.9 : 0 } } });
}

/** The item id the default judge prompt names. */
export function judgedId(request: MockRequest): string {
  return /Test item id: (.*)/.exec(request.text)?.[1]?.trim() ?? "";
}

export function isJudgeRequest(request: MockRequest): boolean {
  return String(request.body.model).includes("judge");
}

/** The one short call a run makes per model before its first item (src/runner/preflight.ts). */
export function isPreflightRequest(request: MockRequest): boolean {
  return request.text === "Reply with OK." && request.body.max_tokens === 1;
}
