import type { z } from "zod";

/**
 * A yes/no check compiled from a zod schema, for records read in bulk (partials.jsonl rows: finalize and the
 * viewer read every row of runs of 400,000 items). zod's parse builds a copy of the value and walks it
 * generically; this generates one plain function per object, array and record of the schema (as zod's own
 * JIT does for objects), so checking a row costs a fraction of parsing its JSON. The schema stays the one
 * definition: the check is generated from it, any part it cannot check exactly (string patterns, array
 * lengths, refinements…) is handed to zod itself, and a value that fails is parsed by zod again to say where
 * and why. So it never accepts what zod would reject. Where code generation is disallowed
 * (--disallow-code-generation-from-strings) it is zod's parse.
 */
export type FastCheck = (value: unknown) => boolean;

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: { check: string; format?: string; value?: unknown; inclusive?: boolean } } }>;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  entries?: Record<string, string | number>;
  values?: unknown[];
  innerType?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const OBJECT = (v: string) => `(typeof ${v} === "object" && ${v} !== null && !Array.isArray(${v}))`;

/** Whether a part's check passes undefined (so a missing key must be looked for apart). */
function takesUndefined(part: z.ZodType): boolean {
  const def = defOf(part);
  if (def.type === "unknown" || def.type === "any" || def.type === "optional") return true;
  if (def.type === "nullable") return takesUndefined(def.innerType!);
  if (def.type === "union") return def.options!.some(takesUndefined);
  return !["string", "boolean", "null", "number", "enum", "literal", "array", "tuple", "record", "object"].includes(def.type);
}

export function compileCheck(schema: z.ZodType): FastCheck {
  const functions: string[] = [];
  const byZod: FastCheck[] = [];

  const fallback = (part: z.ZodType, v: string): string => {
    byZod.push((value) => part.safeParse(value).success);
    return `z[${byZod.length - 1}](${v})`;
  };
  const fn = (param: string, body: string): string => {
    functions.push(`function f${functions.length}(${param}) {\n${body}\n}`);
    return `f${functions.length - 1}`;
  };
  const primitive = (value: unknown): value is string | number | boolean | null =>
    value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));

  /** A JS expression, true when the value in `v` (a name or property read, free of side effects) passes `part`. */
  function expression(part: z.ZodType, v: string): string {
    const def = defOf(part);
    const checks = def.checks ?? [];
    switch (def.type) {
      case "unknown":
      case "any":
        return "true";
      case "string":
      case "boolean":
        return checks.length === 0 ? `typeof ${v} === "${def.type}"` : fallback(part, v);
      case "null":
        return `${v} === null`;
      case "number": {
        const tests = [`typeof ${v} === "number"`, `Number.isFinite(${v})`];
        for (const check of checks) {
          const { check: kind, format, value, inclusive } = check._zod.def;
          if (kind === "number_format" && format === "safeint") tests.push(`Number.isSafeInteger(${v})`);
          else if (kind === "greater_than" && typeof value === "number" && Number.isFinite(value)) tests.push(`${v} ${inclusive ? ">=" : ">"} ${value}`);
          else return fallback(part, v);
        }
        return `(${tests.join(" && ")})`;
      }
      case "enum":
      case "literal": {
        const values = def.type === "enum" ? Object.values(def.entries!) : def.values!;
        if (!values.every(primitive)) return fallback(part, v);
        return `(${values.map((value) => `${v} === ${JSON.stringify(value)}`).join(" || ")})`;
      }
      case "optional":
        return `(${v} === undefined || ${expression(def.innerType!, v)})`;
      case "nullable":
        return `(${v} === null || ${expression(def.innerType!, v)})`;
      case "union":
        return `(${def.options!.map((option) => expression(option, v)).join(" || ")})`;
      case "array": {
        if (checks.length > 0) return fallback(part, v);
        const name = fn("a", `if (!Array.isArray(a)) return false;\nfor (let i = 0; i < a.length; i++) { const e = a[i]; if (!(${expression(def.element!, "e")})) return false; }\nreturn true;`);
        return `${name}(${v})`;
      }
      case "tuple": {
        if (checks.length > 0) return fallback(part, v);
        const items = def.items!;
        const length = def.rest ? `a.length >= ${items.length}` : `a.length === ${items.length}`;
        const rest = def.rest ? `for (let i = ${items.length}; i < a.length; i++) { const e = a[i]; if (!(${expression(def.rest, "e")})) return false; }\n` : "";
        const each = items.map((item, i) => `if (!(${expression(item, `a[${i}]`)})) return false;\n`).join("");
        return `${fn("a", `if (!Array.isArray(a) || !(${length})) return false;\n${each}${rest}return true;`)}(${v})`;
      }
      case "record": {
        const key = defOf(def.keyType!);
        if (key.type !== "string" || (key.checks ?? []).length > 0) return fallback(part, v);
        return `${fn("r", `if (!${OBJECT("r")}) return false;\nfor (const k in r) { const e = r[k]; if (!(${expression(def.valueType!, "e")})) return false; }\nreturn true;`)}(${v})`;
      }
      case "object": {
        // Unknown fields pass (zod's plain and loose objects); a strict object's catchall (never) is zod's.
        if (def.catchall && defOf(def.catchall).type !== "unknown") return fallback(part, v);
        // zod refuses a missing key unless its schema is optional, even one that takes undefined (unknown).
        const fields = Object.entries(def.shape!).map(([key, field]) => {
          const present = takesUndefined(field) && (field as unknown as { _zod: { optin?: string } })._zod.optin !== "optional";
          return `  && ${present ? `${JSON.stringify(key)} in o && ` : ""}${expression(field, `o[${JSON.stringify(key)}]`)}`;
        });
        return `${fn("o", `return ${OBJECT("o")}\n${fields.join("\n")};`)}(${v})`;
      }
      default:
        return fallback(part, v);
    }
  }

  const root = fn("value", `return ${expression(schema, "value")};`);
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function("z", `"use strict";\n${functions.join("\n")}\nreturn ${root};`)(byZod) as FastCheck;
  } catch {
    return (value) => schema.safeParse(value).success;
  }
}
