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

/**
 * A seeded reservoir sample of what is offered, so a report of the same run lists the same items whichever
 * way its rows are read (every row from partials.jsonl, or row numbers from the item index).
 */
export class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  private readonly random = seededRandom(20240601);
  constructor(private readonly size: number) {}
  /** Offers the next one; `make` runs only when it is kept. */
  offer(make: () => T): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(make());
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.size) this.items[slot] = make();
    }
  }
}

/** A seeded reservoir sample of report items, listed by key. */
export class ItemSample {
  private readonly reservoir: Reservoir<ReportItem>;
  constructor(
    size: number,
    private readonly make: (row: ResultRow) => ReportItem,
  ) {
    this.reservoir = new Reservoir(size);
  }
  offer(row: ResultRow): void {
    this.reservoir.offer(() => this.make(row));
  }
  list(): ReportItem[] {
    return byKey(this.reservoir.items);
  }
}

/** Items by key; keys start with the item id, so numeric ids in numeric order (2 before 10). */
export const byKey = (items: ReportItem[]): ReportItem[] => [...items].sort((a, b) => naturalCompare(a.key, b.key));
