import { scrubKnown } from "../secrets.js";

// Text from datasets, model responses, HTTP error bodies and run folders is hostile: printed raw, an escape
// sequence could clear the screen, plant a hyperlink (OSC 8), rewrite a line with \r or \b, or reorder what
// the reader sees with bidi overrides. Everything alignbench prints passes through these functions, which
// show such characters as visible escapes instead (ESC as `\x1b`). alignbench's own terminal codes (the
// progress bar's \r and erase-line) are written around already inert text, never through these.

/**
 * C0 controls and DEL, C1 controls (U+0080–U+009F), bidi embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069), the directional marks (U+200E, U+200F, U+061C), and the line and
 * paragraph separators (U+2028, U+2029), which some terminals treat as line breaks.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escaped(character: string): string {
  if (character === "\n") return "\\n";
  if (character === "\t") return "\\t";
  if (character === "\r") return "\\r";
  const code = character.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/** A message or block of lines: every unsafe character escaped, except line breaks and tabs. */
export function inertText(text: string): string {
  return text.replace(UNSAFE, (character) => (character === "\n" || character === "\t" ? character : escaped(character)));
}

/** One line (a table cell, a name in a progress line): line breaks and tabs escaped too, so the layout holds. */
export function inertLine(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/**
 * JSON printed on the terminal: JSON.stringify already escapes C0 controls, but not C1 controls or bidi
 * characters; these become `\uXXXX`, which reads back as the same string.
 */
export function inertJson(json: string): string {
  return json.replace(UNSAFE, (character) => (character === "\n" || character === "\t" ? character : `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/**
 * Text for one terminal line of a message (an error from a server, an item key): inert, and cut to `max`
 * characters — after the known secrets are removed, since a key cut in two would no longer be recognised.
 */
export function oneLine(text: string, max = 200): string {
  const characters = Array.from(inertLine(scrubKnown(text)));
  return characters.length > max ? characters.slice(0, max - 1).join("") + "…" : characters.join("");
}
