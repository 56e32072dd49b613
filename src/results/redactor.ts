import { scrubText, secretList } from "../secrets.js";
import type { ResultRow } from "./record.js";

/**
 * Removes secret values (API keys, header values, URL credentials) from what alignbench writes about its
 * own configuration and errors: run.log lines and the error fields of rows. Never from prompts or
 * responses: those are the dataset's and the model's text, and a key that is an ordinary word (`ollama`)
 * must not rewrite them.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    this.secrets = secretList(secrets);
  }

  scrub(text: string): string {
    return scrubText(text, this.secrets);
  }

  /**
   * The row with its error messages scrubbed (a provider's error may echo a header or a URL), everything
   * else untouched. The row itself is not modified; a row without errors is returned as it is.
   */
  scrubRow(row: ResultRow): ResultRow {
    // Most rows have no error: they are written as they are, without a copy (this runs on every append).
    const scored = row.scores ? Object.values(row.scores) : [];
    if (this.secrets.length === 0 || !(row.error || row.transcript.some((call) => call.error) || scored.some((score) => score.error))) return row;
    const clean = (text: string | null | undefined) => (typeof text === "string" ? this.scrub(text) : text);
    const out: ResultRow = { ...row, error: clean(row.error) ?? null };
    if (row.transcript.some((call) => call.error)) out.transcript = row.transcript.map((call) => (call.error ? { ...call, error: clean(call.error) ?? null } : call));
    if (row.scores && scored.some((score) => score.error)) {
      out.scores = Object.fromEntries(Object.entries(row.scores).map(([name, score]) => [name, score.error ? { ...score, error: clean(score.error) ?? null } : score]));
    }
    return out;
  }
}
