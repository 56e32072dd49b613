import { describe, expect, it } from "vitest";
import { oneLine } from "../../src/common/inert-text.js";
import { noteSecrets } from "../../src/secrets.js";

describe("oneLine: hostile text on one terminal line", () => {
  it("escapes control characters, line breaks and bidirectional overrides, and keeps other text as it is", () => {
    expect(oneLine("a\u001b[31mred\u001b[0m\r\nb\tc\u0007")).toBe("a\\x1b[31mred\\x1b[0m\\r\\nb\\tc\\x07");
    expect(oneLine("invoice \u202egnp.exe\u2066x\u2069 \u009b2J")).toBe("invoice \\u{202e}gnp.exe\\u{2066}x\\u{2069} \\x9b2J");
    expect(oneLine("déjà vu — 日本語 🙂")).toBe("déjà vu — 日本語 🙂");
  });

  it("cuts long text at a character boundary, never inside an escape's surrogate pair", () => {
    expect(oneLine("x".repeat(300))).toBe("x".repeat(199) + "…");
    expect(oneLine("🙂".repeat(10), 5)).toBe("🙂🙂🙂🙂…");
  });

  it("removes a known secret before cutting, so no prefix of a key that straddles the cut is shown", () => {
    const key = "sk-straddle-0123456789abcdef";
    noteSecrets([key]);
    const shown = oneLine(`${"x".repeat(180)}${key} and more`, 200);
    expect(shown).not.toContain("sk-straddle");
    expect(shown).toContain("[REDACTED]");
  });
});
