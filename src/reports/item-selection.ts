import { naturalCompare } from "../common/natural-order.js";
import { seededRandom } from "../common/seeded-random.js";
import type { Outcome } from "../metrics/outcome.js";
import type { ResultRow } from "../results/record.js";
import { reportItem, worstRank } from "./report-item.js";
import type { ReportItem } from "./report-types.js";
import type { RunLens } from "./run-lens.js";

/** Keeps the k items ranked worst (ties: the first seen). */
export class WorstItems {
  private readonly items: Array<{ rank: number; item: ReportItem }> = [];
  constructor(
    private readonly k: number,
    private readonly lens: RunLens,
  ) {}
  offer(row: ResultRow, outcome: Outcome | null, severity: number | null): void {
    if (this.k === 0) return;
    const rank = worstRank({ outcome, severity, scores: row.scores }, this.lens);
    if (rank === undefined) return;
    if (this.items.length === this.k && rank <= this.items[this.items.length - 1]!.rank) return;
    this.items.push({ rank, item: reportItem(row, this.lens, true) });
    this.items.sort((a, b) => b.rank - a.rank);
    if (this.items.length > this.k) this.items.pop();
  }
  list(): ReportItem[] {
    return this.items.map((entry) => entry.item);
  }
}

/** A seeded reservoir sample, so a report of the same run lists the same items. */
export class ItemSample {
  private readonly items: ReportItem[] = [];
  private seen = 0;
  private readonly random = seededRandom(20240601);
  constructor(
    private readonly size: number,
    private readonly make: (row: ResultRow) => ReportItem,
  ) {}
  offer(row: ResultRow): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(this.make(row));
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.size) this.items[slot] = this.make(row);
    }
  }
  list(): ReportItem[] {
    // Keys start with the item id: numeric ids in numeric order (2 before 10).
    return [...this.items].sort((a, b) => naturalCompare(a.key, b.key));
  }
}
