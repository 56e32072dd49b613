/**
 * Base URLs as users give them: `https://host/openai/v1?api-version=2024-06-01`, or with credentials in
 * them (`https://user:pass@host/v1`, `?api-key=…`). Paths are appended before the query string, the
 * credentials travel as a header rather than in the URL (undici ignores userinfo), and what is shown or
 * stored of a URL never holds a credential.
 */

/** Written where a credential was removed from something alignbench stores or prints. */
export const REDACTED = "[REDACTED]";

/**
 * Query parameters known to carry no secret, kept as they are: Azure OpenAI's `api-version` would otherwise
 * be hidden in every message and force `rejudge --config`. Every other value counts as a credential.
 */
const PUBLIC_QUERY = new Set(["api-version"]);

/** `base` + `path`, the path going before the base's query string: `…/v1?api-version=1` + `/chat/completions` → `…/v1/chat/completions?api-version=1`. */
export function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, "") + (path.startsWith("/") ? path : "/" + path);
  return url.toString();
}

/**
 * The URL with its userinfo removed and every query value but the public ones replaced by [REDACTED] (the names stay, so it
 * still says which parameters were set). Built by hand: URLSearchParams would percent-encode the marker.
 * A string that is not a URL is returned unchanged only when it cannot hold credentials (no `@`, `?`).
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return /[@?]/.test(text) ? REDACTED : text;
  }
  // Nothing to remove: the text stays as written (a non-http reference such as hf:… would not survive rebuilding).
  if (!url.username && !url.password && !url.search) return text;
  const names = [...url.searchParams.keys()];
  const shown = (name: string) => (PUBLIC_QUERY.has(name) ? encodeURIComponent(url.searchParams.get(name) ?? "") : REDACTED);
  const query = names.length > 0 ? "?" + names.map((name) => `${encodeURIComponent(name)}=${shown(name)}`).join("&") : "";
  return `${url.protocol}//${url.host}${url.pathname}${query}${url.hash}`;
}

/** The credentials a base URL carries: its userinfo and every query value but the public ones, raw and decoded (either may be printed). */
export function urlCredentials(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [];
  }
  const secretPairs = url.search
    .slice(1)
    .split("&")
    .filter((pair) => !PUBLIC_QUERY.has(safeDecode(pair.slice(0, Math.max(0, pair.indexOf("="))))));
  const values = [
    url.username,
    url.password,
    ...secretPairs.map((pair) => pair.slice(pair.indexOf("=") + 1)),
    ...[...url.searchParams].filter(([name]) => !PUBLIC_QUERY.has(name)).map(([, value]) => value),
  ];
  for (const value of [url.username, url.password]) values.push(safeDecode(value));
  return [...new Set(values.filter(Boolean))];
}

/** Splits userinfo off a base URL: the URL to call, and the Basic authorization it stood for (if any). */
export function splitUserinfo(text: string): { url: string; authorization?: string } {
  const url = new URL(text);
  if (!url.username && !url.password) return { url: text };
  const credentials = `${safeDecode(url.username)}:${safeDecode(url.password)}`;
  url.username = "";
  url.password = "";
  return { url: url.toString(), authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
