import type { ScorerDeclaration } from "../scorers/types.js";
import type { ItemRowSummary } from "./item-index.js";

// The item table as a file: every row matching the table's filters (not just its page), in its order,
// with whole prompts and responses. CSV for spreadsheets, JSONL for scripts.

export type ExportFormat = "csv" | "jsonl";

/** One exported row: the table's columns, each scorer's value and label flattened beside them. */
export function exportRecord(row: ItemRowSummary, scorers: readonly ScorerDeclaration[]): Record<string, string | number | null> {
  const record: Record<string, string | number | null> = {
    index: row.index,
    key: row.key,
    test_id: row.test_id,
    model: row.model,
    persona: row.persona,
    category: row.category,
    epoch: row.epoch,
    status: row.status,
    outcome: row.outcome,
    severity: row.severity,
  };
  for (const scorer of scorers) {
    record[`${scorer.name}.value`] = row.scores[scorer.name]?.value ?? null;
    record[`${scorer.name}.label`] = row.scores[scorer.name]?.label ?? null;
  }
  record.prompt = row.prompt;
  record.response = row.response;
  return record;
}

/** The header row of the CSV: the record's fields, in order. */
export function csvHeader(scorers: readonly ScorerDeclaration[]): string[] {
  return [
    "index",
    "key",
    "test_id",
    "model",
    "persona",
    "category",
    "epoch",
    "status",
    "outcome",
    "severity",
    ...scorers.flatMap((scorer) => [`${scorer.name}.value`, `${scorer.name}.label`]),
    "prompt",
    "response",
  ];
}

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180 quoting). Model and dataset text is hostile: a text cell that a spreadsheet would
 * read as a formula (=, +, -, @, tab or carriage return first) is prefixed with an apostrophe, which
 * spreadsheets show as text (OWASP's guard against CSV injection); quoting alone does not stop Excel or
 * LibreOffice from evaluating it. Numbers are written as numbers.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text !== value ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: Array<string | number | null>): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** The lines of an export, a batch of rows at a time (the header first for CSV). */
export async function* exportLines(format: ExportFormat, batches: AsyncIterable<ItemRowSummary[]>, scorers: readonly ScorerDeclaration[]): AsyncGenerator<string> {
  const header = csvHeader(scorers);
  if (format === "csv") yield csvLine(header);
  for await (const batch of batches) {
    let chunk = "";
    for (const row of batch) {
      const record = exportRecord(row, scorers);
      chunk += format === "csv" ? csvLine(header.map((name) => record[name] ?? null)) : `${JSON.stringify(record)}\n`;
    }
    yield chunk;
  }
}
