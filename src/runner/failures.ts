import type { ResultRow } from "../results/record.js";

/** Items still failed at the end of a run, by error type: how many, and the first few with their cause. */
export interface FailureSummary {
  total: number;
  types: Array<{ type: string; count: number; examples: Array<{ key: string; message: string }> }>;
}

/** Examples kept per error type: enough to see the cause, few enough for a terminal. */
export const EXAMPLES_PER_TYPE = 3;

/** Collects the failed rows of a run as finalize streams them (memory: a few rows per type, not per row). */
export class FailureCollector {
  private readonly byType = new Map<string, FailureSummary["types"][number]>();
  private total = 0;

  add(row: ResultRow): void {
    if (row.status !== "error") return;
    this.total++;
    const type = row.error_type ?? "unknown";
    let entry = this.byType.get(type);
    if (!entry) this.byType.set(type, (entry = { type, count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < EXAMPLES_PER_TYPE) entry.examples.push({ key: row.key, message: row.error ?? "" });
  }

  build(): FailureSummary {
    return { total: this.total, types: [...this.byType.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)) };
  }
}
