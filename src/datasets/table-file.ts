import { extname } from "node:path";
import { InputError, InputErrors, UserError } from "../errors.js";
import { writeOutputFile } from "../io/output-file.js";
import { readRecords } from "./readers.js";

/** One row of a table file, with the 1-based line (CSV, JSONL) or row (JSON, Parquet) it came from. */
export interface TableRow {
  line: number;
  value: Record<string, unknown>;
}

/**
 * Reads every row of a CSV, JSONL, JSON or Parquet file. Undecodable rows are reported together (file, line,
 * field); `required` names columns every row must hold as non-empty text.
 */
export async function readTable(file: string, required: string[] = []): Promise<{ rows: TableRow[]; columns: string[] }> {
  const rows: TableRow[] = [];
  const problems: InputError[] = [];
  let total = 0;
  const columns = new Set<string>();
  for await (const record of readRecords(file)) {
    if (record.problem || !record.value) {
      total++;
      if (problems.length < 20) problems.push(new InputError(file, record.line, record.problem?.field, record.problem?.message ?? "unreadable row"));
      continue;
    }
    const missing = required.find((column) => typeof record.value![column] !== "string" || (record.value![column] as string).trim() === "");
    if (missing !== undefined) {
      total++;
      const present = Object.keys(record.value);
      const hint = present.includes(missing) ? "is empty" : `is missing (columns: ${present.join(", ")})`;
      if (problems.length < 20) problems.push(new InputError(file, record.line, missing, hint));
      continue;
    }
    for (const column of Object.keys(record.value)) columns.add(column);
    rows.push({ line: record.line, value: record.value });
  }
  if (total > 0) throw new InputErrors(problems, total);
  return { rows, columns: [...columns] };
}

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: a cell holding a comma, quote or line break is quoted, its quotes doubled. */
export function csvCell(value: unknown): string {
  const text = value === undefined || value === null ? "" : typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The text of a table as CSV (header + rows) or JSONL, by the output file's extension. */
export function tableText(file: string, columns: string[], rows: Array<Record<string, unknown>>): string {
  const extension = extname(file).toLowerCase();
  if (extension === ".csv") return [columns.map(csvCell).join(","), ...rows.map((row) => columns.map((column) => csvCell(row[column])).join(","))].join("\n") + "\n";
  if (extension === ".jsonl") return rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((column) => [column, row[column] ?? null])))).join("\n") + (rows.length ? "\n" : "");
  throw new UserError(`${file}: write .csv or .jsonl`);
}

/** Writes a table as CSV or JSONL (atomically; never through a symbolic link). */
export function writeTable(file: string, columns: string[], rows: Array<Record<string, unknown>>): void {
  writeOutputFile(file, tableText(file, columns, rows));
}
