// A local judge that always parses: llama.cpp samples under a grammar, so only text the grammar allows can
// be generated. node-llama-cpp 3.21.1 builds that grammar from a JSON Schema, but from a subset of it: no
// numeric bounds, `required` always means every listed property, no $ref outside its own $defs. This turns
// a judge's JSON Schema into that subset so that whatever the grammar allows also validates against the
// original schema:
//  - a number or integer with both bounds becomes an enum of a grid over its range (integers: every value
//    when there are at most 1,001; numbers: 101 steps, i.e. a bounded score is written to 1/100 of its range);
//  - properties stay as listed (the grammar emits them all: optional ones too, which is still valid);
//  - keys the grammar ignores ($schema, title, description…) are dropped;
//  - what the schema leaves unbounded is capped (strings 300 characters, free-form objects 8 keys, arrays 16
//    items): still valid, and a small model looping inside a string still ends its answer.
// A schema using anything else (a $ref, a pattern, anyOf with objects the subset can't express, a bound on
// one side only) gives undefined: the judge then generates without a grammar, as before, and its answer is
// still validated and repaired.

export type GrammarSchema = Record<string, unknown>;

const GRID_STEPS = 100;
const MAX_INTEGERS = 1001;
/** Caps for what a schema leaves unbounded (still valid: shorter is allowed), so an answer always ends. */
const STRING_CAP = 300;
const PROPERTIES_CAP = 8;
const ITEMS_CAP = 16;

/** The grammar subset's version of `schema`, or undefined when it has features the subset cannot keep exactly. */
export function grammarSchema(schema: unknown): GrammarSchema | undefined {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return undefined;
  const node = schema as Record<string, unknown>;
  if ("const" in node) return { const: node.const };
  if (Array.isArray(node.enum)) return { enum: node.enum };
  const variants = (node.oneOf ?? node.anyOf) as unknown[] | undefined;
  if (Array.isArray(variants)) {
    const converted = variants.map(grammarSchema);
    return converted.every(Boolean) ? { oneOf: converted } : undefined;
  }
  if (unsupported(node)) return undefined;
  const type = node.type;
  if (type === "string") {
    const out: GrammarSchema = { type };
    if (typeof node.minLength === "number") out.minLength = node.minLength;
    // Capped where the schema sets no cap, so a small model looping inside a string still ends its answer.
    out.maxLength = typeof node.maxLength === "number" ? node.maxLength : STRING_CAP;
    if (node.format !== undefined) return ["date-time", "time", "date"].includes(String(node.format)) ? { ...out, format: node.format } : undefined;
    return out;
  }
  if (type === "number" || type === "integer") return numberSchema(type, node);
  if (type === "boolean" || type === "null") return { type };
  if (type === "array") {
    const out: GrammarSchema = { type };
    if (node.items !== undefined) {
      const items = grammarSchema(node.items);
      if (!items) return undefined;
      out.items = items;
    }
    if (typeof node.minItems === "number") out.minItems = node.minItems;
    out.maxItems = typeof node.maxItems === "number" ? node.maxItems : ITEMS_CAP;
    return out;
  }
  if (type === "object" || (type === undefined && node.properties)) {
    const properties: Record<string, GrammarSchema> = {};
    for (const [key, value] of Object.entries((node.properties ?? {}) as Record<string, unknown>)) {
      const converted = grammarSchema(value);
      if (!converted) return undefined;
      properties[key] = converted;
    }
    const out: GrammarSchema = { type: "object", properties };
    const extra = node.additionalProperties;
    if (extra && typeof extra === "object") {
      const converted = grammarSchema(extra);
      if (!converted) return undefined;
      out.additionalProperties = converted;
      out.maxProperties = typeof node.maxProperties === "number" ? node.maxProperties : PROPERTIES_CAP;
      if (typeof node.minProperties === "number") out.minProperties = node.minProperties;
    } else out.additionalProperties = false;
    return out;
  }
  return undefined;
}

function unsupported(node: Record<string, unknown>): boolean {
  return ["$ref", "pattern", "allOf", "not", "if", "patternProperties", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"].some((key) => key in node) || Array.isArray(node.type);
}

function numberSchema(type: "number" | "integer", node: Record<string, unknown>): GrammarSchema | undefined {
  const { minimum, maximum } = node;
  if (minimum === undefined && maximum === undefined) return { type };
  if (typeof minimum !== "number" || typeof maximum !== "number" || maximum < minimum) return undefined;
  if (type === "integer") {
    const low = Math.ceil(minimum);
    const high = Math.floor(maximum);
    if (high - low + 1 > MAX_INTEGERS || high < low) return undefined;
    return { enum: Array.from({ length: high - low + 1 }, (_, index) => low + index) };
  }
  // Rounded so 0.1 · 3 is written 0.3, and clamped so the last step is exactly the maximum.
  const values = Array.from({ length: GRID_STEPS + 1 }, (_, index) => Math.min(maximum, Number((minimum + ((maximum - minimum) * index) / GRID_STEPS).toPrecision(12))));
  return { enum: [...new Set(values)] };
}
