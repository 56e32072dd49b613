import { UserError } from "../errors.js";
import { DOMAIN_KINDS, type DomainKind, domainLabels } from "./misalign-pairs.js";
import { readTable } from "./table-file.js";
import type { Taxonomy } from "./taxonomy.js";

/** A prompt with its domain labels per taxonomy (empty before classification). */
export interface LabelledPrompt {
  id: string;
  line: number;
  prompt: string;
  labels: Record<DomainKind, string[]>;
}

/** The column of each taxonomy's labels in SaVaCu's files (before_generation_count.csv). */
export const NAME_COLUMNS: Record<DomainKind, string> = { safety: "safety_name", value: "values_name", cultural: "cultural_name" };
const COUNT_COLUMNS: Record<DomainKind, string> = { safety: "before_gen_safety", value: "before_gen_value", cultural: "before_gen_cultural" };

export const noLabels = (): Record<DomainKind, string[]> => ({ safety: [], value: [], cultural: [] });

/**
 * Prompts from any table file: `field` holds the text, id/row_index the id (else the row's position, from 1); the domain columns
 * (safety_name, values_name, cultural_name) when present. In before_generation_count.csv the before_gen_*
 * columns are a separate count table laid beside the rows (its first rows hold "domain,count"): ignored here.
 */
export async function readLabelledPrompts(file: string, field = "prompt"): Promise<LabelledPrompt[]> {
  const { rows } = await readTable(file, [field]);
  if (rows.length === 0) throw new UserError(`${file}: no rows`);
  const seen = new Set<string>();
  return rows.map((row, index) => {
    const raw = row.value.id ?? row.value.row_index;
    const id = raw === undefined || raw === "" ? String(index + 1) : String(raw);
    if (seen.has(id)) throw new UserError(`${file}:${row.line}: the id ${id} is used twice: ids must be unique`);
    seen.add(id);
    const labels = noLabels();
    for (const kind of DOMAIN_KINDS) labels[kind] = domainLabels(row.value[NAME_COLUMNS[kind]]);
    return { id, line: row.line, prompt: row.value[field] as string, labels };
  });
}

/** Prompts per domain label, every label of the taxonomy included (0 when none), in the taxonomy's order. */
export function domainCounts(prompts: readonly LabelledPrompt[], taxonomy: Taxonomy): Map<string, number> {
  const counts = new Map(taxonomy.labels.map((label) => [label, 0]));
  for (const prompt of prompts) for (const label of prompt.labels[taxonomy.kind]) counts.set(label, (counts.get(label) ?? 0) + 1);
  return counts;
}

/**
 * The published before_generation_count.csv shape: row_index (the prompt's id), prompt, and per taxonomy a count column
 * (before_gen_*: "domain,count" in its first rows, domains in alphabetical order, empty below) beside the
 * prompt's own label column (*_name: its domains joined by "; ", or None).
 */
export function beforeGenerationTable(prompts: readonly LabelledPrompt[], taxonomies: readonly Taxonomy[]): { columns: string[]; rows: Array<Record<string, unknown>> } {
  const columns = ["row_index", "prompt"];
  const tables = new Map<DomainKind, string[]>();
  for (const taxonomy of taxonomies) {
    columns.push(COUNT_COLUMNS[taxonomy.kind], NAME_COLUMNS[taxonomy.kind]);
    tables.set(
      taxonomy.kind,
      [...domainCounts(prompts, taxonomy)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, count]) => `${label},${count}`),
    );
  }
  const rows = prompts.map((prompt, i) => {
    const row: Record<string, unknown> = { row_index: prompt.id, prompt: prompt.prompt };
    for (const taxonomy of taxonomies) {
      row[COUNT_COLUMNS[taxonomy.kind]] = tables.get(taxonomy.kind)![i] ?? "";
      row[NAME_COLUMNS[taxonomy.kind]] = prompt.labels[taxonomy.kind].length > 0 ? prompt.labels[taxonomy.kind].join("; ") : "None";
    }
    return row;
  });
  return { columns, rows };
}

export const DOMAIN_COUNTS_FILE = "domain_counts.csv";

/**
 * The same counts as a tidy table (taxonomy, domain, prompts), always complete: in the published shape the
 * count columns only have as many rows as there are prompts, so a file with fewer prompts than domains cuts them.
 */
export function domainCountTable(prompts: readonly LabelledPrompt[], taxonomies: readonly Taxonomy[]): { columns: string[]; rows: Array<Record<string, unknown>>; cut: boolean } {
  const rows: Array<Record<string, unknown>> = [];
  let cut = false;
  for (const taxonomy of taxonomies) {
    const counts = [...domainCounts(prompts, taxonomy)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (counts.length > prompts.length) cut = true;
    for (const [domain, count] of counts) rows.push({ taxonomy: taxonomy.kind, domain, prompts: count });
  }
  return { columns: ["taxonomy", "domain", "prompts"], rows, cut };
}
