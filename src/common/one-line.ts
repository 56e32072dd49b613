// Control characters (C0, DEL, C1: an escape sequence can move the cursor, recolour or retitle a terminal),
// line and paragraph separators, and bidirectional overrides (they reorder what follows on screen).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text from a model, a dataset or a server (hostile: it may carry escape sequences), made safe to print on
 * one terminal line: every unsafe character is shown escaped, and long text is cut to `max` characters.
 */
export function oneLine(text: string, max = 200): string {
  const escaped = text.replace(UNSAFE, (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const chars = Array.from(escaped);
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : escaped;
}
