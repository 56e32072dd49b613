import { describe, expect, it } from "vitest";
import { oneLine } from "../../src/common/one-line.js";

describe("oneLine: hostile text on one terminal line", () => {
  it("escapes control characters, line breaks and bidirectional overrides, and keeps other text as it is", () => {
    expect(oneLine("a\u001b[31mred\u001b[0m\r\nb\tc\u0007")).toBe("a\\u001b[31mred\\u001b[0m\\r\\nb\\tc\\u0007");
    expect(oneLine("invoice \u202egnp.exe\u2066x\u2069 \u009b2J")).toBe("invoice \\u202egnp.exe\\u2066x\\u2069 \\u009b2J");
    expect(oneLine("déjà vu — 日本語 🙂")).toBe("déjà vu — 日本語 🙂");
  });

  it("cuts long text at a character boundary, never inside an escape's surrogate pair", () => {
    expect(oneLine("x".repeat(300))).toBe("x".repeat(199) + "…");
    expect(oneLine("🙂".repeat(10), 5)).toBe("🙂🙂🙂🙂…");
  });
});
