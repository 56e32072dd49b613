import { describe, expect, it } from "vitest";
import { inertJson, inertLine, inertText } from "../../src/common/inert-text.js";

describe("inert text", () => {
  it("shows every control character, C1 control and bidi control as a visible escape", () => {
    expect(inertText("a\u001b[31mred\u001b[0m\u0007\b\r\u007f")).toBe("a\\x1b[31mred\\x1b[0m\\x07\\x08\\r\\x7f");
    expect(inertText("\u009b2J \u0085")).toBe("\\x9b2J \\x85");
    expect(inertText("\u202eexe.txt\u202c \u2066x\u2069 \u200f\u2028")).toBe("\\u{202e}exe.txt\\u{202c} \\u{2066}x\\u{2069} \\u{200f}\\u{2028}");
  });

  it("keeps line breaks and tabs in a message, escapes them in a line", () => {
    expect(inertText("one\n\ttwo")).toBe("one\n\ttwo");
    expect(inertLine("one\n\ttwo")).toBe("one\\n\\ttwo");
  });

  it("leaves ordinary text alone, accents and emoji included", () => {
    const text = "B − A (95% CI) · café ✓ 日本 🙂 \\x1b";
    expect(inertText(text)).toBe(text);
    expect(inertLine(text)).toBe(text);
  });

  it("keeps JSON parseable and equal to the original", () => {
    const value = { text: "a\u001b[2J\u009b\u202e\nb" };
    const json = inertJson(JSON.stringify(value, null, 2));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});
