import { extname } from "node:path";
import { isMap, isSeq, type Node } from "yaml";
import { InputError, UserError } from "../errors.js";
import { readTextFile } from "../io/text-file.js";
import { fieldPath } from "../datasets/sample.js";
import { nearest } from "../config/suggest.js";
import { parseYaml } from "../config/yaml.js";
import { BUILTIN_PERSONAS } from "./builtin.js";
import { NO_PERSONA, personaSchema, type Persona } from "./persona.js";

/**
 * Reads user personas from YAML (a list, or `personas:` holding one) or JSONL (one per line). Two entries
 * with one slug are refused: both would run under one result key, so one persona's rows would silently
 * stand for the other's.
 */
export async function loadPersonasFile(file: string): Promise<Persona[]> {
  const text = await readTextFile(file, "personas file");
  const isYaml = extname(file).toLowerCase() !== ".jsonl";
  const entries = isYaml ? yamlEntries(file, text) : jsonlEntries(file, text);
  const firstLine = new Map<string, string>();
  return entries.map(({ line, label, value }) => {
    const result = personaSchema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field = fieldPath(issue.path);
      throw new InputError(file, line, label ? `${label}: ${field}` : field, issue.message);
    }
    const slug = result.data.slug;
    const first = firstLine.get(slug);
    if (first !== undefined) throw new InputError(file, line, label ? `${label}: slug` : "slug", `duplicate slug "${slug}" (first ${first})`);
    firstLine.set(slug, line !== undefined ? `on line ${line}` : (label ?? "above"));
    return result.data;
  });
}

interface Entry {
  line: number | undefined;
  /** `persona #N` in a YAML list, where the line alone may not say which entry is meant. */
  label?: string;
  value: unknown;
}

function jsonlEntries(file: string, text: string): Entry[] {
  const entries: Entry[] = [];
  text.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    try {
      entries.push({ line: index + 1, value: JSON.parse(line) });
    } catch (error) {
      throw new InputError(file, index + 1, undefined, `not valid JSON (${(error as Error).message})`);
    }
  });
  return entries;
}

// Parsed with the shared YAML reader (syntax errors with their line, alias bombs refused); each entry's
// line comes from the document, so a problem in a long list points at its entry.
function yamlEntries(file: string, text: string): Entry[] {
  const { document, lineCounter, value } = parseYaml(file, text);
  const list = Array.isArray(value) ? value : (value as { personas?: unknown } | null)?.personas;
  if (!Array.isArray(list)) throw new InputError(file, undefined, undefined, "expected a list of personas (or a `personas:` key holding one)");
  const root = document.contents;
  const nodes = isSeq(root) ? root : isMap(root) ? root.get("personas", true) : undefined;
  return list.map((entry: unknown, index) => {
    const offset = isSeq(nodes) ? (nodes.items[index] as Node | null)?.range?.[0] : undefined;
    return { line: offset === undefined ? undefined : lineCounter.linePos(offset).line, label: `persona #${index + 1}`, value: entry };
  });
}

/** Built-ins plus the user's, by slug; a user persona with a built-in's slug replaces it. */
export function personaCatalog(userPersonas: Persona[] = []): Map<string, Persona> {
  const catalog = new Map<string, Persona>();
  for (const persona of [...BUILTIN_PERSONAS, ...userPersonas]) catalog.set(persona.slug, persona);
  return catalog;
}

/** Looks up the slugs a run asked for; none means one pass with no persona. */
export function selectPersonas(slugs: string[], catalog: Map<string, Persona>): Array<Persona | undefined> {
  if (slugs.length === 0) return [undefined];
  // As with models: a slug listed twice would run every item twice under one key.
  const duplicate = slugs.find((slug, index) => slugs.indexOf(slug) !== index);
  if (duplicate !== undefined) throw new UserError(`persona "${duplicate}" is listed twice`);
  return slugs.map((slug) => {
    if (slug === NO_PERSONA) return undefined;
    const persona = catalog.get(slug);
    if (!persona) {
      const known = [...catalog.keys()];
      throw new UserError(`unknown persona "${slug}"${suggestion(slug, known)}; \`alignbench personas\` lists them, --personas-file adds your own`);
    }
    return persona;
  });
}

function suggestion(word: string, candidates: string[]): string {
  const near = nearest(word, candidates);
  return near ? ` (did you mean "${near}"?)` : "";
}
