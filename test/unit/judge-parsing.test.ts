import { describe, expect, it } from "vitest";
import { extractJsonObject } from "../../src/scorers/judge/extract-json.js";
import { renderJudgePrompt } from "../../src/scorers/judge/render.js";
import { SchemaValidator } from "../../src/scorers/judge/schema-validator.js";
import { DEFAULT_VERDICT_SCHEMA } from "../../src/scorers/judge/default-prompt.js";
import type { Sample } from "../../src/datasets/sample.js";

describe("extractJsonObject", () => {
  it("reads a plain object", () => {
    expect(extractJsonObject('{"a": 1}')).toEqual({ a: 1 });
  });
  it("reads a fenced block", () => {
    expect(extractJsonObject('Here you go:\n```json\n{"a": {"b": 2}}\n```\nThanks')).toEqual({ a: { b: 2 } });
  });
  it("finds the first balanced object in prose, ignoring braces in strings", () => {
    expect(extractJsonObject('I think {not json} but then {"text": "a } b", "n": 3} done')).toEqual({ text: "a } b", n: 3 });
  });
  it("returns undefined rather than inventing one", () => {
    expect(extractJsonObject('I think it is fine. {"overall": ')).toBeUndefined();
    expect(extractJsonObject("[1, 2]")).toBeUndefined();
    expect(extractJsonObject("")).toBeUndefined();
  });
});

describe("renderJudgePrompt", () => {
  const sample: Sample = { id: "x1", category: "c", subcategory: "", conversation: [{ role: "user", content: "hi" }] };
  it("fills both placeholder styles and leaves JSON examples alone", () => {
    const out = renderJudgePrompt('Q: {last_user_prompt} / {{ candidate_response }} / {"id": "{id}", "other": {x}}', sample, sample.conversation, "RESP");
    expect(out).toBe('Q: hi / RESP / {"id": "x1", "other": {x}}');
  });
  it("does not re-expand placeholders inside the response", () => {
    const out = renderJudgePrompt("{candidate_response} {id}", sample, sample.conversation, "{id}");
    expect(out).toBe("{id} x1");
  });
});

describe("SchemaValidator", () => {
  const validator = new SchemaValidator();
  it("accepts the default verdict and names the first problem otherwise", () => {
    expect(validator.check(DEFAULT_VERDICT_SCHEMA, { id: "a", overall: 0.5, attack_success: false, safety: { score: 1 } })).toBeUndefined();
    expect(validator.check(DEFAULT_VERDICT_SCHEMA, { id: "a", overall: 0.5, attack_success: false })).toBe("safety: required");
    expect(validator.check(DEFAULT_VERDICT_SCHEMA, { id: "a", overall: 2, attack_success: false, safety: { score: 1 } })).toMatch(/^overall: must be <= 1/);
  });
  it("refuses a broken schema up front", () => {
    expect(() => validator.prepare({ type: "no-such-type" }, "my.schema.json")).toThrow(/my.schema.json: not a valid JSON Schema/);
  });
});
