import { extname } from "node:path";
import { InputError, UserError } from "../errors.js";
import { readTextFile } from "../io/text-file.js";
import { fieldPath } from "../datasets/sample.js";
import { nearest } from "../config/suggest.js";
import { parseYaml } from "../config/yaml.js";
import { BUILTIN_PERSONAS } from "./builtin.js";
import { NO_PERSONA, personaSchema, type Persona } from "./persona.js";

/** Reads user personas from YAML (a list, or `personas:` holding one) or JSONL (one per line). */
export async function loadPersonasFile(file: string): Promise<Persona[]> {
  const text = await readTextFile(file, "personas file");
  const entries: Array<{ line: number; value: unknown }> = [];
  if (extname(file).toLowerCase() === ".jsonl") {
    text.split("\n").forEach((line, index) => {
      if (!line.trim()) return;
      try {
        entries.push({ line: index + 1, value: JSON.parse(line) });
      } catch (error) {
        throw new InputError(file, index + 1, undefined, `not valid JSON (${(error as Error).message})`);
      }
    });
  } else {
    const parsed = parseYaml(file, text).value;
    const list = Array.isArray(parsed) ? parsed : (parsed as { personas?: unknown } | null)?.personas;
    if (!Array.isArray(list)) throw new InputError(file, undefined, undefined, "expected a list of personas (or a `personas:` key holding one)");
    list.forEach((value, index) => entries.push({ line: index + 1, value }));
  }
  const isYaml = extname(file).toLowerCase() !== ".jsonl";
  return entries.map(({ line, value }) => {
    const result = personaSchema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const where = isYaml ? `persona #${line}` : undefined;
    const field = fieldPath(issue.path);
    throw new InputError(file, isYaml ? undefined : line, where ? `${where}: ${field}` : field, issue.message);
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
