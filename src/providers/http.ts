import { Agent, request } from "undici";
import { ProviderError } from "./errors.js";
import { OFFLINE_REFUSED } from "../io/offline-guard.js";
import { redactUrl } from "./url.js";
import { scrubKnown } from "../secrets.js";

// One keep-alive pool for every provider: undici's `request` costs a fraction of `fetch` per call,
// which matters at thousands of calls per second.
let sharedAgent: Agent | undefined;
function agent(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
  return sharedAgent;
}

export async function closeHttp(): Promise<void> {
  const current = sharedAgent;
  sharedAgent = undefined;
  await current?.close();
}

export interface PostJsonOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** POSTs JSON and returns the parsed answer; every failure becomes a classified ProviderError. */
export async function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<unknown> {
  let response;
  try {
    response = await request(url, {
      method: "POST",
      dispatcher: agent(),
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify(body),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: options.signal,
    });
  } catch (error) {
    throw classifyNetworkError(error, options.timeoutMs);
  }
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw classifyNetworkError(error, options.timeoutMs);
  }
  const status = response.statusCode;
  // Messages name the endpoint without its query values: a base URL may carry a key there (`?api-key=…`).
  const shown = redactUrl(url);
  if (status < 200 || status >= 300) {
    const detail = errorDetail(text);
    const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
    if (status === 429) throw new ProviderError("rate_limited", `HTTP 429 from ${shown}: ${detail}`, status, retryAfterMs);
    if (status >= 500 || status === 408) throw new ProviderError("server_error", `HTTP ${status} from ${shown}: ${detail}`, status, retryAfterMs);
    throw new ProviderError("client_error", `HTTP ${status} from ${shown}: ${detail}`, status);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError("bad_response", `${shown} answered HTTP ${status} with a body that is not JSON: ${scrubKnown(text).slice(0, 120)}`, status);
  }
}

function errorDetail(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const message = typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (message) return scrubKnown(message).slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return scrubKnown(text).slice(0, 300) || "(empty body)";
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function classifyNetworkError(error: unknown, timeoutMs: number): ProviderError {
  const code = (error as { code?: string }).code ?? "";
  // --offline refused the connection (io/offline-guard.ts): final, never retried, the message names the host.
  if (code === OFFLINE_REFUSED) return new ProviderError("client_error", (error as Error).message);
  const name = (error as Error).name;
  if (name === "AbortError" || code === "UND_ERR_ABORTED") return new ProviderError("cancelled", "request cancelled");
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return new ProviderError("timeout", `no answer within ${timeoutMs} ms (${code})`);
  }
  const message = (error as Error).message ?? String(error);
  return new ProviderError("connection", `connection failed: ${code ? code + " " : ""}${message}`);
}
