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
    this.addFailure(row.key, row.error_type ?? "unknown", row.error ?? "");
  }

  /** A failure that is not a failed row (a named scoring's failed score, whose item keeps its status). */
  addFailure(key: string, type: string, message: string): void {
    this.total++;
    let entry = this.byType.get(type);
    if (!entry) this.byType.set(type, (entry = { type, count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < EXAMPLES_PER_TYPE) entry.examples.push({ key, message });
  }

  /** Adds the failures of another summary (counted apart, e.g. by finalize): counts add up, examples fill to the limit. */
  merge(summary: FailureSummary): void {
    for (const other of summary.types) {
      let entry = this.byType.get(other.type);
      if (!entry) this.byType.set(other.type, (entry = { type: other.type, count: 0, examples: [] }));
      entry.count += other.count;
      entry.examples.push(...other.examples.slice(0, EXAMPLES_PER_TYPE - entry.examples.length));
    }
    this.total += summary.total;
  }

  build(): FailureSummary {
    return { total: this.total, types: [...this.byType.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)) };
  }
}
