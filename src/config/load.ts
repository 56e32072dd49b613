import { isRemoteReference } from "../io/download.js";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, isAbsolute, resolve } from "node:path";
import { LineCounter, parseDocument, isMap, isScalar, type Node } from "yaml";
import type { z } from "zod";
import { UserError, formatLocation } from "../errors.js";
import { fieldPath } from "../datasets/sample.js";
import { runConfigSchema, type RunConfig, type RunConfigInput } from "./schema.js";
import { nearest } from "./suggest.js";

export class ConfigError extends UserError {
  override readonly name = "ConfigError";
}

interface Source {
  file?: string;
  /** Line of a key path in the YAML file, when known. */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined;
  /** Top-level keys given as command-line flags. */
  flagKeys: Set<string>;
}

/** Reads a YAML config file; problems are reported with the file and line. */
export function readConfigFile(file: string): { values: Record<string, unknown>; lineOf: Source["lineOf"] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const problem = document.errors[0];
  if (problem) {
    const line = lineCounter.linePos(problem.pos[0]).line;
    throw new ConfigError(formatLocation(file, line, undefined, `invalid YAML: ${problem.message.split("\n")[0]}`));
  }
  const values = document.toJS() as unknown;
  if (values === null || values === undefined) return { values: {}, lineOf: () => undefined };
  if (typeof values !== "object" || Array.isArray(values)) throw new ConfigError(`${file}: the config must be a mapping of keys to values`);
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = document.getIn(path.slice(0, depth), true) as Node | undefined;
      const pair = depth > 0 ? findKeyNode(document.getIn(path.slice(0, depth - 1), true) as Node | undefined, path[depth - 1]) : undefined;
      const offset = pair?.range?.[0] ?? node?.range?.[0];
      if (offset !== undefined) return lineCounter.linePos(offset).line;
    }
    return undefined;
  };
  return { values: values as Record<string, unknown>, lineOf };
}

function findKeyNode(parent: Node | undefined, key: PropertyKey | undefined): Node | undefined {
  if (!parent || !isMap(parent)) return undefined;
  for (const item of parent.items) {
    if (isScalar(item.key) && String(item.key.value) === String(key)) return item.key;
  }
  return undefined;
}

const PATH_KEYS = ["dataset", "personas_file"] as const;
const JUDGE_PATH_KEYS = ["prompt_file", "schema_file"] as const;

/** Paths in a config file are relative to the file, not to where the command runs. */
function resolvePaths(values: Record<string, unknown>, base: string): void {
  for (const key of PATH_KEYS) {
    const value = values[key];
    // Hub names and URLs are not paths.
    if (typeof value === "string" && !isAbsolute(value) && !isRemoteReference(value)) values[key] = resolve(base, value);
  }
  const prompts = values.scorer_prompts;
  if (isPlainObject(prompts)) {
    for (const [name, value] of Object.entries(prompts)) if (typeof value === "string" && !isAbsolute(value)) prompts[name] = resolve(base, value);
  }
  const judge = values.judge;
  if (judge && typeof judge === "object") {
    for (const key of JUDGE_PATH_KEYS) {
      const value = (judge as Record<string, unknown>)[key];
      if (typeof value === "string" && !isAbsolute(value)) (judge as Record<string, unknown>)[key] = resolve(base, value);
    }
  }
}

/**
 * The effective run config: the YAML file (if any), then flags on top. Unknown keys are errors that
 * suggest the nearest valid key.
 */
export function resolveRunConfig(file: string | undefined, flags: RunConfigInput): RunConfig {
  let values: Record<string, unknown> = {};
  let lineOf: Source["lineOf"] = () => undefined;
  if (file) {
    ({ values, lineOf } = readConfigFile(file));
    resolvePaths(values, dirname(resolve(file)));
  }
  const merged: Record<string, unknown> = { ...values };
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const existing = merged[key];
    // Flags such as --judge-schema set one field of a nested block; keep the file's other fields.
    merged[key] = isPlainObject(existing) && isPlainObject(value) ? { ...existing, ...value } : value;
  }
  const flagKeys = new Set(Object.entries(flags).filter(([, value]) => value !== undefined).map(([key]) => key));
  // A suite is a preset: its keys apply wherever the file and the flags say nothing.
  if (typeof merged.suite === "string") {
    const suiteFile = resolveSuite(merged.suite);
    const suite = readConfigFile(suiteFile);
    const problem = runConfigSchema.safeParse(suite.values);
    if (!problem.success) throw new ConfigError(problem.error.issues.map((issue) => describeIssue(issue, { file: suiteFile, lineOf: suite.lineOf, flagKeys: new Set() })).join("\n"));
    resolvePaths(suite.values, dirname(suiteFile));
    for (const [key, value] of Object.entries(suite.values)) {
      if (merged[key] === undefined) merged[key] = value;
      else if (isPlainObject(merged[key]) && isPlainObject(value)) merged[key] = { ...value, ...(merged[key] as Record<string, unknown>) };
    }
  }
  const parsed = runConfigSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const source: Source = { lineOf, flagKeys };
  if (file) source.file = file;
  throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, source)).join("\n"));
}

/** A built-in suite name (suites/NAME.yaml in the package) or a path to a suite YAML file. */
export function resolveSuite(name: string): string {
  if (/^[a-z0-9_-]+$/.test(name)) {
    const builtin = fileURLToPath(new URL(`../../suites/${name}.yaml`, import.meta.url));
    if (existsSync(builtin)) return builtin;
    const known = readdirSync(dirname(builtin)).filter((file) => file.endsWith(".yaml")).map((file) => file.slice(0, -5));
    const near = nearest(name, known);
    throw new ConfigError(`unknown suite "${name}"${near ? ` (did you mean "${near}"?)` : ""}; built-in suites: ${known.join(", ")}; or give a suite YAML file`);
  }
  if (!existsSync(name)) throw new ConfigError(`${name}: no such suite file`);
  return resolve(name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeIssue(issue: z.core.$ZodIssue, source: Source): string {
  const top = String(issue.path[0] ?? "");
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(issue.path);
    return issue.keys
      .map((key) => {
        const near = nearest(key, known);
        const hint = near ? ` (did you mean "${near}"?)` : ` (valid keys: ${known.join(", ")})`;
        return locate([...issue.path, key], source, `unknown key${hint}`);
      })
      .join("\n");
  }
  const flagged = source.flagKeys.has(top) && issue.path.length <= 2;
  if (flagged) return `--${top.replace(/_/g, "-")}: ${issue.message}`;
  return locate(issue.path, source, issue.message);
}

function locate(path: ReadonlyArray<PropertyKey>, source: Source, message: string): string {
  const field = fieldPath(path);
  if (!source.file) return `${field}: ${message}`;
  return formatLocation(source.file, source.lineOf(path), field, message);
}

interface ZodDefinition {
  type: string;
  shape?: Record<string, { _zod: { def: ZodDefinition } }>;
  innerType?: { _zod: { def: ZodDefinition } };
  in?: { _zod: { def: ZodDefinition } };
  valueType?: { _zod: { def: ZodDefinition } };
  element?: { _zod: { def: ZodDefinition } };
}

/** The keys the schema accepts at an object path, for suggestions. */
function knownKeys(path: ReadonlyArray<PropertyKey>): string[] {
  let definition: ZodDefinition | undefined = (runConfigSchema as unknown as { _zod: { def: ZodDefinition } })._zod.def;
  const unwrap = () => {
    while (definition && ["default", "optional", "nullable", "pipe", "prefault"].includes(definition.type)) {
      definition = (definition.innerType ?? definition.in)?._zod.def;
    }
  };
  unwrap();
  for (const segment of path) {
    if (!definition) return [];
    if (definition.type === "object") definition = definition.shape?.[String(segment)]?._zod.def;
    else if (definition.type === "record") definition = definition.valueType?._zod.def;
    else if (definition.type === "array") definition = definition.element?._zod.def;
    unwrap();
  }
  return definition?.type === "object" && definition.shape ? Object.keys(definition.shape).filter((key) => key !== "$schema") : [];
}
