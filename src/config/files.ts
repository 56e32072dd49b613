import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, isAbsolute, resolve } from "node:path";
import { isMap, isScalar, type Node } from "yaml";
import { formatLocation } from "../errors.js";
import { isRemoteReference } from "../io/download.js";
import { ConfigError } from "./config-error.js";
import { SECTIONS, type SectionName } from "./file-schema.js";
import { runConfigSchema } from "./schema.js";
import { nearest } from "./suggest.js";
import { readYamlFile } from "./yaml.js";

// Config and suite files: YAML, read with the line of every key, grouped sections flattened, `include:`
// resolved (the included files are the base, the including file's keys override them), and relative
// paths resolved next to the file that wrote them.

type KeyPath = ReadonlyArray<PropertyKey>;
type LineOf = (path: KeyPath) => number | undefined;

/** Reads a YAML config file; problems are reported with the file and line. */
export function readConfigFile(file: string): { values: Record<string, unknown>; lineOf: LineOf } {
  const { document, lineCounter, value: values } = readYamlFile(file, "config file");
  if (values === null || values === undefined) return { values: {}, lineOf: () => undefined };
  if (typeof values !== "object" || Array.isArray(values)) throw new ConfigError(`${file}: the config must be a mapping of keys to values`);
  const lineOf = (path: KeyPath): number | undefined => {
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

const BUILTIN_FOLDER = fileURLToPath(new URL("../../suites/", import.meta.url));

/** The names of the built-in suites (suites/NAME.yaml in the package). */
export function builtinSuites(): string[] {
  return readdirSync(BUILTIN_FOLDER)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -5))
    .sort();
}

/** A bare name (no '/', no extension) names a built-in suite; anything else is a path. */
export function isSuiteName(reference: string): boolean {
  return /^[a-z0-9_-]+$/.test(reference);
}

function builtinSuite(name: string): string | undefined {
  const file = resolve(BUILTIN_FOLDER, `${name}.yaml`);
  return existsSync(file) ? file : undefined;
}

function unknownSuite(name: string): string {
  const known = builtinSuites();
  const near = nearest(name, known);
  return `unknown suite "${name}"${near ? ` (did you mean "${near}"?)` : ""}; built-in suites: ${known.join(", ")}; or give a suite YAML file`;
}

/** A built-in suite name (suites/NAME.yaml in the package) or a path to a suite YAML file. */
export function resolveSuite(name: string): string {
  if (isSuiteName(name)) {
    const builtin = builtinSuite(name);
    if (builtin) return builtin;
    throw new ConfigError(unknownSuite(name));
  }
  if (!existsSync(name)) throw new ConfigError(`${name}: no such suite file`);
  return resolve(name);
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
  // A drift run's task and prompt files (config `drift:`).
  if (isPlainObject(values.drift)) values.drift = resolveBlockPaths(values.drift, ["task_in_domain", "task_ood", "task_data", "in_domain_prompts", "ood_prompts"], base);
  // A part's file too (a suite's own data beside it, e.g. suites/drift-probes.jsonl).
  if (Array.isArray(values.datasets)) {
    values.datasets = values.datasets.map((part: unknown) =>
      isPlainObject(part) && typeof part.dataset === "string" && !isAbsolute(part.dataset) && !isRemoteReference(part.dataset) ? { ...part, dataset: resolve(base, part.dataset) } : part,
    );
  }
  const prompts = values.scorer_prompts;
  if (isPlainObject(prompts)) {
    const resolved: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(prompts)) resolved[name] = typeof value === "string" && !isAbsolute(value) ? resolve(base, value) : value;
    values.scorer_prompts = resolved;
  }
  const judge = values.judge;
  if (isPlainObject(judge)) {
    const resolved: Record<string, unknown> = { ...judge };
    for (const key of JUDGE_PATH_KEYS) {
      const value = resolved[key];
      if (typeof value === "string" && !isAbsolute(value)) resolved[key] = resolve(base, value);
    }
    values.judge = resolved;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Where a key path of the flat config was written. */
export interface Location {
  file: string;
  line: number | undefined;
  /** The key path as written in that file (`data.dataset` for a key given in the data section). */
  path: PropertyKey[];
}

/** Where a value came from; maps have one node per key, so a deep merge keeps each key's own origin. */
interface Origin {
  file: string;
  lineOf: LineOf;
  path: PropertyKey[];
  children?: Map<string, Origin>;
}

/** A file and the files it includes, in the order they apply (each include under the file). */
export interface IncludeTree {
  file: string;
  /** As written in `include:`; absent for the top file. */
  reference?: string;
  includes: IncludeTree[];
}

export interface ConfigLayer {
  /** The flat settings: sections flattened, includes merged under the file's own keys, paths resolved. */
  values: Record<string, unknown>;
  /** Where a key path of `values` was written (file, line, path in that file). */
  where(path: KeyPath): Location | undefined;
  /** The files a top-level key's value came from (several for a map merged from several files). */
  filesOf(key: string): string[];
  include: IncludeTree;
}

interface Layer {
  values: Record<string, unknown>;
  origins: Map<string, Origin>;
}

/**
 * Reads a config or suite file with its includes. `include:` names a built-in suite or a file relative to
 * this one (or a list of them, applied in order); included keys are the base and this file's override
 * them. Maps merge key by key; lists and values are replaced.
 */
export function loadConfigLayer(file: string): ConfigLayer {
  const tree: IncludeTree = { file, includes: [] };
  const layer = loadLayer(file, resolve(file), [], tree);
  return {
    values: layer.values,
    include: tree,
    where: (path) => locate(layer.origins, path),
    filesOf: (key) => {
      const origin = layer.origins.get(key);
      return origin ? [...new Set(filesIn(origin))] : [];
    },
  };
}

function filesIn(origin: Origin): string[] {
  if (!origin.children || origin.children.size === 0) return [origin.file];
  return [...origin.children.values()].flatMap(filesIn);
}

function locate(origins: Map<string, Origin>, path: KeyPath): Location | undefined {
  let origin = origins.get(String(path[0]));
  if (!origin) return undefined;
  let depth = 1;
  for (; depth < path.length && origin.children?.has(String(path[depth])); depth++) origin = origin.children.get(String(path[depth]))!;
  const filePath = [...origin.path, ...path.slice(depth)];
  return { file: origin.file, line: origin.lineOf(filePath), path: filePath };
}

function loadLayer(shown: string, absolute: string, stack: string[], tree: IncludeTree): Layer {
  const { values: raw, lineOf } = readConfigFile(shown);
  const at = (path: KeyPath, message: string) => new ConfigError(formatLocation(shown, lineOf(path), pathText(path), message));
  const values: Record<string, unknown> = {};
  const paths = new Map<string, PropertyKey[]>();
  for (const [key, value] of Object.entries(raw)) {
    if (key === "include") continue;
    if (!(key in SECTIONS)) {
      values[key] = value;
      paths.set(key, [key]);
    }
  }
  for (const name of Object.keys(SECTIONS) as SectionName[]) {
    if (!(name in raw)) continue;
    const section = raw[name];
    if (section === null) continue;
    if (!isPlainObject(section)) throw at([name], `a section is a mapping of its keys (${SECTIONS[name].join(", ")})`);
    for (const [key, value] of Object.entries(section)) {
      if (!(SECTIONS[name] as readonly string[]).includes(key)) throw at([name, key], misplaced(name, key));
      if (paths.has(key)) throw at([name, key], `also given at line ${lineOf(paths.get(key)!)} as ${pathText(paths.get(key)!)}; give it once`);
      values[key] = value;
      paths.set(key, [name, key]);
    }
  }
  resolvePaths(values, dirname(absolute));
  const own: Layer = { values, origins: new Map() };
  for (const [key, value] of Object.entries(values)) own.origins.set(key, originOf(value, { file: shown, lineOf, path: paths.get(key)! }));

  let base: Layer | undefined;
  for (const [reference, path] of includeList(raw.include, at)) {
    const target = resolveInclude(reference, dirname(absolute), (message) => at(path, message));
    const chain = [...stack, absolute];
    if (chain.includes(target)) {
      const names = [...chain.slice(chain.indexOf(target)), target].map((file) => (file === absolute ? shown : file));
      throw at(path, `include cycle: ${names.join(" → ")}`);
    }
    const child: IncludeTree = { file: target, reference, includes: [] };
    tree.includes.push(child);
    const included = loadLayer(target, target, chain, child);
    base = base ? merge(base, included) : included;
  }
  return base ? merge(base, own) : own;
}

function includeList(value: unknown, at: (path: KeyPath, message: string) => ConfigError): Array<[string, KeyPath]> {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((entry, index) => {
    const path = Array.isArray(value) ? ["include", index] : ["include"];
    if (typeof entry !== "string" || entry === "") throw at(path, "give a built-in suite name or a path to a suite file (relative to this file)");
    return [entry, path];
  });
}

function resolveInclude(reference: string, base: string, fail: (message: string) => ConfigError): string {
  if (isSuiteName(reference)) {
    const builtin = builtinSuite(reference);
    if (builtin) return builtin;
    throw fail(`${unknownSuite(reference)} (a file relative to this one is written with its extension: ./${reference}.yaml)`);
  }
  const target = isAbsolute(reference) ? reference : resolve(base, reference);
  if (!existsSync(target)) throw fail(`no such suite file ${reference} (looked for ${target})`);
  return target;
}

function misplaced(section: SectionName, key: string): string {
  const home = (Object.keys(SECTIONS) as SectionName[]).find((name) => (SECTIONS[name] as readonly string[]).includes(key));
  if (home) return `${key} belongs in the ${home} section (or at the top level), not in ${section}`;
  if (key in runConfigSchema.shape) return `${key} is not a key of the ${section} section; write it at the top level`;
  const near = nearest(key, SECTIONS[section]);
  return `unknown key in the ${section} section${near ? ` (did you mean "${near}"?)` : ` (its keys: ${SECTIONS[section].join(", ")})`}`;
}

function pathText(path: KeyPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

function originOf(value: unknown, origin: Omit<Origin, "children">): Origin {
  if (!isPlainObject(value)) return origin;
  const children = new Map<string, Origin>();
  for (const [key, child] of Object.entries(value)) children.set(key, originOf(child, { ...origin, path: [...origin.path, key] }));
  return { ...origin, children };
}

/** `over` on top of `base`: maps merge key by key, anything else in `over` replaces `base`'s. */
function merge(base: Layer, over: Layer): Layer {
  const values: Record<string, unknown> = { ...base.values };
  const origins = new Map(base.origins);
  for (const [key, value] of Object.entries(over.values)) {
    const merged = mergeValue(base.values[key], base.origins.get(key), value, over.origins.get(key)!);
    values[key] = merged.value;
    origins.set(key, merged.origin);
  }
  return { values, origins };
}

function mergeValue(base: unknown, baseOrigin: Origin | undefined, over: unknown, overOrigin: Origin): { value: unknown; origin: Origin } {
  if (!isPlainObject(base) || !isPlainObject(over) || !baseOrigin?.children || !overOrigin.children) return { value: over, origin: overOrigin };
  const value: Record<string, unknown> = { ...base };
  const children = new Map(baseOrigin.children);
  for (const [key, child] of Object.entries(over)) {
    const merged = mergeValue(base[key], baseOrigin.children.get(key), child, overOrigin.children.get(key)!);
    value[key] = merged.value;
    children.set(key, merged.origin);
  }
  return { value, origin: { ...overOrigin, children } };
}

/** A block's path-valued keys resolved next to the file (hub names and URLs kept as they are). */
function resolveBlockPaths(block: Record<string, unknown>, keys: string[], base: string): Record<string, unknown> {
  const out = { ...block };
  for (const key of keys) {
    const value = out[key];
    if (typeof value === "string" && !isAbsolute(value) && !isRemoteReference(value)) out[key] = resolve(base, value);
  }
  return out;
}
