import { closeSync, fdatasync as fdatasyncCallback, fstatSync, openSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import type { Redactor } from "./redactor.js";
import { storedJson, type ResultRow } from "./record.js";
import type { ResultColumns } from "./result-columns.js";
import type { ItemMark, StateStore } from "./state-store.js";

const fdatasync = promisify(fdatasyncCallback);

interface Pending {
  line: string;
  mark: ItemMark;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface PartialsWriterOptions {
  /** fdatasync each batch, so rows survive a power cut and not only a killed process. */
  fsync: boolean;
  /** Longest wait before a batch is written, in ms. */
  maxDelayMs: number;
  maxBatch: number;
}

/**
 * Appends rows to partials.jsonl with group commit: rows that finish close together are written with
 * one write (and one fdatasync), then marked done in state.sqlite in one transaction. A row is therefore
 * always on disk before its key is marked, and each `append` resolves only once its row is both.
 */
export class PartialsWriter {
  private readonly fd: number;
  private offset: number;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failed: unknown;
  private readonly columns: ResultColumns;

  constructor(
    file: string,
    private readonly store: StateStore,
    private readonly redactor: Redactor,
    private readonly options: PartialsWriterOptions = { fsync: true, maxDelayMs: 5, maxBatch: 512 },
  ) {
    this.fd = openSync(file, "a");
    this.offset = fstatSync(this.fd).size;
    this.columns = store.resultColumns();
  }

  /** Why writing failed, if it did; nothing more is accepted after that. */
  get failure(): unknown {
    return this.failed;
  }

  append(row: ResultRow): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    // Only the row's error messages are scrubbed: prompts and responses are stored exactly as they were.
    const line = storedJson(this.redactor.scrubRow(row)) + "\n";
    // The row's offset is set when its batch is written.
    const mark: ItemMark = { key: row.key, status: row.status, attempt: row.attempt, errorType: row.error_type, rowOffset: -1 };
    this.columns.observe(row);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, mark, resolve, reject });
      if (this.pending.length >= this.options.maxBatch && !this.flushing) void this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (!this.timer && !this.flushing) this.timer = setTimeout(() => void this.flush(), this.options.maxDelayMs);
  }

  /** Writes and marks everything pending now (after any batch already on its way). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.schedule();
    });
    await this.flushing;
  }

  // One batch at a time, so offsets only grow; rows finishing meanwhile wait and form the next, larger batch.
  private async writeBatch(batch: Pending[]): Promise<void> {
    try {
      let position = this.offset;
      for (const entry of batch) {
        entry.mark.rowOffset = position;
        position += Buffer.byteLength(entry.line, "utf8");
      }
      const bytes = Buffer.from(batch.map((entry) => entry.line).join(""), "utf8");
      let written = 0;
      while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
      // fdatasync runs on libuv's thread pool: the event loop keeps serving model calls meanwhile.
      if (this.options.fsync) await fdatasync(this.fd);
      this.offset += bytes.length;
      this.store.commit(batch.map((entry) => entry.mark), this.offset, this.columns);
    } catch (error) {
      // A disk that refuses writes ends the run: nothing after this point could be trusted as saved.
      this.failed = error;
      for (const entry of batch) entry.reject(error);
      for (const entry of this.pending.splice(0)) entry.reject(error);
      return;
    }
    for (const entry of batch) entry.resolve();
  }

  /** Flushes everything and closes the file. */
  async close(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) {
      if (this.failed) break;
      await this.flush();
    }
    if (this.timer) clearTimeout(this.timer);
    closeSync(this.fd);
  }
}
