import { InputError, InputErrors, UserError } from "../errors.js";
import { readTable, type TableRow } from "./table-file.js";

/** The three taxonomies Mis-Align-Bench labels prompts with. */
export const DOMAIN_KINDS = ["safety", "value", "cultural"] as const;
export type DomainKind = (typeof DOMAIN_KINDS)[number];

/** One response to judge: a prompt, a response, whether it is misaligned (1) or aligned (0), and its prompt's domains. */
export interface MisalignItem {
  /** Unique per response: the row's id, with #aligned / #misaligned for the two sides of a pair. */
  id: string;
  /** The row it came from (0-based): the unit a bootstrap resamples, so a pair's two responses move together. */
  unit: number;
  line: number;
  prompt: string;
  response: string;
  truth: 0 | 1;
  domains: Record<DomainKind, string[]>;
}

/** Which columns hold what. Pairs: aligned + misaligned; single responses: response + label. */
export interface MisalignMapping {
  id?: string;
  prompt?: string;
  aligned?: string;
  misaligned?: string;
  response?: string;
  label?: string;
  safety?: string;
  value?: string;
  cultural?: string;
}

/** Default column names, first present wins: SaVaCu's and this project's own files. */
const DEFAULTS: Required<Record<keyof MisalignMapping, string[]>> = {
  id: ["id", "row_index"],
  prompt: ["prompt"],
  aligned: ["aligned_response", "aligned"],
  misaligned: ["misaligned_response", "misaligned"],
  response: ["response", "generation"],
  label: ["label"],
  safety: ["safety_name", "safety", "safety_domain"],
  value: ["values_name", "value", "value_domain"],
  cultural: ["cultural_name", "cultural", "cultural_domain"],
};

/** Cells that mean "no domain": empty, None, Unknown is kept (it is a published label). */
const NO_LABEL = new Set(["", "none", "null", "nan", "n/a"]);

/** A domain cell: one label, or several separated by ; or |, or a JSON list. */
export function domainLabels(cell: unknown): string[] {
  if (cell === undefined || cell === null) return [];
  if (Array.isArray(cell)) return cell.map(String).filter((label) => !NO_LABEL.has(label.trim().toLowerCase()));
  const text = String(cell).trim();
  if (text.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return domainLabels(parsed);
    } catch {
      // Not JSON: read as text.
    }
  }
  return text
    .split(/[;|]/)
    .map((label) => label.trim())
    .filter((label) => !NO_LABEL.has(label.toLowerCase()));
}

const MISALIGNED = new Set(["misaligned", "1", "true", "yes", "unsafe"]);
const ALIGNED = new Set(["aligned", "0", "false", "no", "safe"]);

/** Reads a pairs file (prompt, aligned and misaligned response) or a single-response file (response + label). */
export async function loadMisalignItems(file: string, mapping: MisalignMapping = {}): Promise<{ items: MisalignItem[]; shape: "pairs" | "single" }> {
  const { rows, columns } = await readTable(file);
  if (rows.length === 0) throw new UserError(`${file}: no rows`);
  const pick = (field: keyof MisalignMapping): string | undefined => {
    const named = mapping[field];
    if (named !== undefined) {
      if (!columns.includes(named)) throw new UserError(`${file}: no column ${named} (--${field}-field); columns: ${columns.join(", ")}`);
      return named;
    }
    return DEFAULTS[field].find((column) => columns.includes(column));
  };
  const prompt = pick("prompt");
  if (!prompt) throw new UserError(`${file}: no prompt column (columns: ${columns.join(", ")}); name it with --prompt-field`);
  const aligned = pick("aligned");
  const misaligned = pick("misaligned");
  const response = pick("response");
  const label = pick("label");
  const shape = aligned && misaligned && !(mapping.response || mapping.label) ? "pairs" : response && label ? "single" : undefined;
  if (!shape)
    throw new UserError(
      `${file}: expected pairs (columns aligned_response and misaligned_response, or --aligned-field/--misaligned-field) or single responses (response and label, or --response-field/--label-field); columns: ${columns.join(", ")}`,
    );
  const id = pick("id");
  const domainColumns = Object.fromEntries(DOMAIN_KINDS.map((kind) => [kind, pick(kind)])) as Record<DomainKind, string | undefined>;
  const items: MisalignItem[] = [];
  const problems: InputError[] = [];
  let bad = 0;
  const text = (row: TableRow, column: string): string | undefined => {
    const cell = row.value[column];
    if (typeof cell === "string" && cell.trim() !== "") return cell;
    if (typeof cell === "number") return String(cell);
    bad++;
    if (problems.length < 20) problems.push(new InputError(file, row.line, column, "is empty"));
    return undefined;
  };
  rows.forEach((row, unit) => {
    const rowId = id !== undefined && row.value[id] !== undefined && row.value[id] !== "" ? String(row.value[id]) : `row${row.line}`;
    const domains = Object.fromEntries(DOMAIN_KINDS.map((kind) => [kind, domainColumns[kind] ? domainLabels(row.value[domainColumns[kind]!]) : []])) as Record<DomainKind, string[]>;
    const promptText = text(row, prompt);
    if (shape === "pairs") {
      const good = text(row, aligned!);
      const badResponse = text(row, misaligned!);
      if (promptText === undefined || good === undefined || badResponse === undefined) return;
      items.push({ id: `${rowId}#aligned`, unit, line: row.line, prompt: promptText, response: good, truth: 0, domains });
      items.push({ id: `${rowId}#misaligned`, unit, line: row.line, prompt: promptText, response: badResponse, truth: 1, domains });
      return;
    }
    const responseText = text(row, response!);
    const cell = String(row.value[label!] ?? "")
      .trim()
      .toLowerCase();
    const truth = MISALIGNED.has(cell) ? 1 : ALIGNED.has(cell) ? 0 : undefined;
    if (truth === undefined) {
      bad++;
      if (problems.length < 20) problems.push(new InputError(file, row.line, label!, `"${cell}" is not a label: misaligned/aligned, 1/0, true/false, yes/no, unsafe/safe`));
      return;
    }
    if (promptText === undefined || responseText === undefined) return;
    items.push({ id: rowId, unit, line: row.line, prompt: promptText, response: responseText, truth, domains });
  });
  if (bad > 0) throw new InputErrors(problems, bad);
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) throw new InputError(file, item.line, id ?? "id", `the id ${item.id} is used twice: ids must be unique`);
    seen.add(item.id);
  }
  return { items, shape };
}
