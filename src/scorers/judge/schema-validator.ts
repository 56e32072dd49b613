import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { UserError } from "../../errors.js";

/** Compiles JSON Schemas once each and validates judge answers against them. */
export class SchemaValidator {
  private readonly ajv = new Ajv({ allErrors: false, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  // Most checks reuse the same schema object: find it by identity before serialising it as a key.
  private readonly byObject = new WeakMap<object, ValidateFunction>();

  /** Compiles eagerly, so a broken schema is reported before any model call. */
  prepare(schema: Record<string, unknown>, where: string): void {
    this.compile(schema, where);
  }

  /** Undefined when valid, else a one-line description of the first problem. */
  check(schema: Record<string, unknown>, value: unknown): string | undefined {
    const validate = this.compile(schema, "judge schema");
    if (validate(value)) return undefined;
    return describe(validate.errors?.[0]);
  }

  private compile(schema: Record<string, unknown>, where: string): ValidateFunction {
    const known = this.byObject.get(schema);
    if (known) return known;
    const key = JSON.stringify(schema);
    const cached = this.compiled.get(key);
    if (cached) {
      this.byObject.set(schema, cached);
      return cached;
    }
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(schema);
    } catch (error) {
      throw new UserError(`${where}: not a valid JSON Schema (${(error as Error).message})`);
    }
    this.compiled.set(key, validate);
    this.byObject.set(schema, validate);
    return validate;
  }
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return "does not match the schema";
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, ".") : "(root)";
  if (error.keyword === "required") return `${where === "(root)" ? "" : where + "."}${String(error.params.missingProperty)}: required`;
  return `${where}: ${error.message ?? "invalid"}`;
}
