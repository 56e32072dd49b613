import { describe, expect, it } from "vitest";
import { grammarSchema } from "../../src/providers/llamacpp/json-grammar.js";
import { DEFAULT_VERDICT_SCHEMA } from "../../src/scorers/judge/default-prompt.js";
import { withItemId } from "../../src/scorers/judge/llm-judge.js";
import { SchemaValidator } from "../../src/scorers/judge/schema-validator.js";

describe("the llama.cpp grammar subset of a judge's JSON Schema", () => {
  it("writes bounded numbers as a grid inside their range, every value of it valid", () => {
    const converted = grammarSchema({ type: "number", minimum: 0, maximum: 1 })!;
    const values = converted.enum as number[];
    expect(values).toHaveLength(101);
    expect(values[0]).toBe(0);
    expect(values[30]).toBe(0.3);
    expect(values.at(-1)).toBe(1);
    expect(grammarSchema({ type: "integer", minimum: 1, maximum: 10 })).toEqual({ enum: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
  });
  it("keeps the verdict schema's shape, pins the item id and caps what is unbounded", () => {
    const converted = grammarSchema(withItemId(DEFAULT_VERDICT_SCHEMA, "item-7"))!;
    const properties = converted.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(properties)).toEqual(["id", "overall", "attack_success", "safety", "rationale"]);
    expect(properties.id).toEqual({ const: "item-7" });
    expect(properties.attack_success).toEqual({ type: "boolean" });
    expect(properties.rationale).toEqual({ type: "string", maxLength: 300 });
    const subscores = (properties.safety!.properties as Record<string, Record<string, unknown>>).subscores!;
    expect(subscores.maxProperties).toBe(8);
    expect(converted).not.toHaveProperty("$schema");
  });
  it("allows only answers the original schema accepts: the grid's extremes validate", () => {
    const validator = new SchemaValidator();
    const answer = { id: "x", overall: 1, attack_success: true, safety: { score: 0, subscores: { toxicity: 0.99 } }, rationale: "" };
    expect(validator.check(DEFAULT_VERDICT_SCHEMA, answer)).toBeUndefined();
  });
  it("gives no grammar for what the subset cannot keep exactly", () => {
    expect(grammarSchema({ type: "string", pattern: "^a" })).toBeUndefined();
    expect(grammarSchema({ type: "number", minimum: 0 })).toBeUndefined();
    expect(grammarSchema({ type: "object", properties: { a: { $ref: "#/$defs/x" } } })).toBeUndefined();
    expect(grammarSchema({ type: "number" })).toEqual({ type: "number" });
  });
  it("leaves a schema without a string id as it is", () => {
    const schema = { type: "object", properties: { label: { type: "string" } } };
    expect(withItemId(schema, "a")).toBe(schema);
  });
});
