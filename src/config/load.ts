import type { z } from "zod";
import { formatLocation } from "../errors.js";
import { fieldPath } from "../datasets/sample.js";
import { ConfigError } from "./config-error.js";
import { SECTIONS } from "./file-schema.js";
import { isPlainObject, loadConfigLayer, resolveSuite, type ConfigLayer } from "./files.js";
import { runConfigSchema, type RunConfig, type RunConfigInput } from "./schema.js";
import { nearest } from "./suggest.js";
import { withDriftAlternatives } from "./drift-alternatives.js";

export { ConfigError } from "./config-error.js";
export { readConfigFile, resolveSuite, loadConfigLayer, builtinSuites, type ConfigLayer } from "./files.js";

interface Source {
  file?: string;
  /** Where a key path was written, when known (the file itself or a file it includes). */
  where(path: ReadonlyArray<PropertyKey>): ReturnType<ConfigLayer["where"]>;
  /** Top-level keys given as command-line flags. */
  flagKeys: Set<string>;
}

/**
 * The effective run config: the YAML file (if any), then flags on top. Unknown keys are errors that
 * suggest the nearest valid key.
 */
export function resolveRunConfig(file: string | undefined, flags: RunConfigInput, adapt?: (values: Record<string, unknown>) => void): RunConfig {
  const layer = file ? loadConfigLayer(file) : undefined;
  // A command reading another tool's config shape (alignbench drift: AlignBench's) takes its keys out first.
  if (layer && adapt) adapt(layer.values);
  const merged: Record<string, unknown> = { ...layer?.values };
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const existing = merged[key];
    // Flags such as --judge-schema set one field of a nested block; keep the file's other fields.
    merged[key] = isPlainObject(existing) && isPlainObject(value) ? { ...existing, ...value } : value;
  }
  const flagKeys = new Set(
    Object.entries(flags)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => key),
  );
  // A suite is a preset: its keys apply wherever the file and the flags say nothing.
  if (typeof merged.suite === "string") {
    const suite = loadSuite(merged.suite);
    for (const [key, value] of Object.entries(suite.values)) {
      if (merged[key] === undefined) merged[key] = value;
      else if (isPlainObject(merged[key]) && isPlainObject(value)) merged[key] = { ...value, ...(merged[key] as Record<string, unknown>) };
    }
  }
  const parsed = runConfigSchema.safeParse(merged);
  // A drift run's `drift:` block becomes parts, plan options and suite metrics here, for every command.
  if (parsed.success) return withDriftAlternatives(parsed.data);
  const source: Source = { where: (path) => layer?.where(path), flagKeys };
  if (file) source.file = file;
  throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, source)).join("\n"));
}

/**
 * A suite (built-in name or file) with its includes and sections resolved, checked against the config
 * schema; problems name the file (the suite's or an included one) and the line.
 */
export function loadSuite(name: string): ConfigLayer & { file: string } {
  const file = resolveSuite(name);
  const layer = loadConfigLayer(file);
  const problem = runConfigSchema.safeParse(layer.values);
  if (!problem.success) throw new ConfigError(problem.error.issues.map((issue) => describeIssue(issue, { file, where: layer.where, flagKeys: new Set() })).join("\n"));
  return { ...layer, file };
}

function describeIssue(issue: z.core.$ZodIssue, source: Source): string {
  const top = String(issue.path[0] ?? "");
  if (issue.code === "unrecognized_keys") {
    // At the top level a file may also write include: and the grouped sections.
    const known = [...knownKeys(issue.path), ...(issue.path.length === 0 ? ["include", ...Object.keys(SECTIONS)] : [])];
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
  const found = source.where(path);
  if (found) return formatLocation(found.file, found.line, fieldPath(found.path), message);
  const field = fieldPath(path);
  if (!source.file) return `${field}: ${message}`;
  return formatLocation(source.file, undefined, field, message);
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
