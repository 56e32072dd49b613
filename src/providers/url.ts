/**
 * Base URLs as users give them: `https://host/openai/v1?api-version=2024-06-01`, or with credentials in
 * them (`https://user:pass@host/v1`, `?api-key=…`). Paths are appended before the query string, the
 * credentials travel as a header rather than in the URL (undici ignores userinfo), and what is shown or
 * stored of a URL never holds a credential.
 */

/** Written where a credential was removed from something alignbench stores or prints. */
export const REDACTED = "[REDACTED]";

/** `base` + `path`, the path going before the base's query string: `…/v1?api-version=1` + `/chat/completions` → `…/v1/chat/completions?api-version=1`. */
export function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, "") + (path.startsWith("/") ? path : "/" + path);
  return url.toString();
}

/**
 * The URL with its userinfo removed and every query value replaced by [REDACTED] (the names stay, so it
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
  const query = names.length > 0 ? "?" + names.map((name) => `${encodeURIComponent(name)}=${REDACTED}`).join("&") : "";
  return `${url.protocol}//${url.host}${url.pathname}${query}${url.hash}`;
}

/** The credentials a base URL carries: its userinfo and every query value, raw and decoded (either may be printed). */
export function urlCredentials(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [];
  }
  const values = [
    url.username,
    url.password,
    ...url.search
      .slice(1)
      .split("&")
      .map((pair) => pair.slice(pair.indexOf("=") + 1)),
    ...url.searchParams.values(),
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
