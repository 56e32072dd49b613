import Database from "libsql";
import { ResultColumns } from "./result-columns.js";

export type ItemStatus = "ok" | "error";

/** What the store learns from one partials row. */
export interface ItemMark {
  key: string;
  status: ItemStatus;
  attempt: number;
  errorType: string | null;
  /** Where the row starts in partials.jsonl, so a later session can read it back (e.g. to re-judge it). */
  rowOffset: number;
}

/**
 * state.sqlite: the status of every key, and how far into partials.jsonl those statuses account for.
 * Marks for a batch and the new offset are committed in one transaction, after the batch's rows are on disk.
 */
export class StateStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<unknown[]>;
  private readonly selectStatus: Database.Statement<unknown[]>;
  private readonly setMeta: Database.Statement<unknown[]>;
  private readonly commitMarks: (marks: ItemMark[], offset: number, columns: string | undefined) => void;

  /**
   * `readonly`: for readers beside a run that may be live (reports, the viewer, comparisons): no schema
   * changes, no writes, no checkpoint on close.
   */
  constructor(
    readonly file: string,
    private readonly options: { readonly?: boolean } = {},
  ) {
    if (options.readonly) {
      this.db = new Database(file, { readonly: true });
    } else {
      this.db = new Database(file);
      this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS items (
        key TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error_type TEXT,
        row_offset INTEGER
      );
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    }
    // A later attempt replaces an earlier one's status; replaying an older row changes nothing.
    this.upsert = this.db.prepare(`
      INSERT INTO items (key, status, attempts, error_type, row_offset) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, error_type = excluded.error_type, row_offset = excluded.row_offset
      WHERE excluded.attempts >= items.attempts`);
    this.selectStatus = this.db.prepare("SELECT status, attempts, row_offset FROM items WHERE key = ?").raw(true);
    this.setMeta = this.db.prepare("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    const commitMarks = (marks: ItemMark[], offset: number, columns: string | undefined) => {
      for (const mark of marks) this.upsert.run(mark.key, mark.status, mark.attempt, mark.errorType, mark.rowOffset);
      this.setMeta.run("partials_offset", String(offset));
      if (columns !== undefined) this.setMeta.run("result_columns", columns);
    };
    // Not libsql's db.transaction(): when COMMIT fails on a full disk, SQLite has already rolled back, and
    // the wrapper's own ROLLBACK then throws "no transaction is active", hiding the real error (SQLITE_FULL).
    this.commitMarks = (marks, offset, columns) => {
      this.db.exec("BEGIN");
      try {
        commitMarks(marks, offset, columns);
        this.db.exec("COMMIT");
      } catch (error) {
        try {
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
        } catch {
          // The first error says what went wrong.
        }
        throw error;
      }
    };
  }

  /** Marks a batch, the offset it reaches and (when they changed) the result columns learned so far, atomically. */
  commit(marks: ItemMark[], partialsOffset: number, columns?: ResultColumns): void {
    const snapshot = columns?.changed ? columns.snapshot() : undefined;
    this.commitMarks(marks, partialsOffset, snapshot);
    if (columns) columns.changed = false;
  }

  /** The result columns learned from every row so far. */
  resultColumns(): ResultColumns {
    const row = this.db.prepare("SELECT value FROM meta WHERE name = 'result_columns'").get() as { value: string } | undefined;
    return ResultColumns.restore(row?.value);
  }

  /** The byte offset in partials.jsonl up to which every row is reflected here. */
  partialsOffset(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE name = 'partials_offset'").get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  lookup(key: string): { status: ItemStatus; attempts: number; rowOffset: number | null } | undefined {
    const row = this.selectStatus.get(key) as [ItemStatus, number, number | null] | undefined;
    return row ? { status: row[0], attempts: row[1], rowOffset: row[2] } : undefined;
  }

  /**
   * Every key's latest attempt and where its row starts, in file order (a streaming read: nothing may be
   * written while it is consumed). Keys without an offset (older folders) are left out.
   */
  marksByOffset(): Iterable<[key: string, attempts: number, offset: number]> {
    return this.db.prepare("SELECT key, attempts, row_offset FROM items WHERE row_offset IS NOT NULL ORDER BY row_offset, key").raw(true).iterate() as Iterable<[string, number, number]>;
  }

  /** Keys with more than one attempt, and their latest attempt number. */
  retriedKeys(): Map<string, number> {
    const retried = new Map<string, number>();
    for (const row of this.db.prepare("SELECT key, attempts FROM items WHERE attempts > 1").raw(true).iterate() as Iterable<[string, number]>) {
      retried.set(row[0], row[1]);
    }
    return retried;
  }

  counts(): { ok: number; error: number } {
    const rows = this.db.prepare("SELECT status, count(*) AS n FROM items GROUP BY status").all() as Array<{ status: ItemStatus; n: number }>;
    const counts = { ok: 0, error: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  /**
   * Forgets everything and flags the store to be rebuilt from partials.jsonl (a repair is replacing the
   * file): a kill before `endRebuild` leaves the flag, and the next open rebuilds.
   */
  startRebuild(): void {
    this.db.exec("BEGIN; DELETE FROM items; DELETE FROM meta; INSERT INTO meta (name, value) VALUES ('rebuild_pending', '1'); COMMIT;");
  }

  rebuildPending(): boolean {
    return this.db.prepare("SELECT 1 FROM meta WHERE name = 'rebuild_pending'").get() !== undefined;
  }

  endRebuild(): void {
    this.db.exec("DELETE FROM meta WHERE name = 'rebuild_pending'");
  }

  /** Forget everything (used when partials.jsonl must be re-read from the start). */
  reset(): void {
    this.db.exec("DELETE FROM items; DELETE FROM meta;");
  }

  close(): void {
    try {
      // Fold the write-ahead log back into state.sqlite, so the folder holds one self-contained file. On a
      // full disk this can fail; the marks are safe in the log all the same, and the next open folds them.
      if (!this.options.readonly) this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      this.db.close();
    }
  }
}
