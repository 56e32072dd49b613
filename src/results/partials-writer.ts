import { closeSync, fdatasync as fdatasyncCallback, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { promisify } from "node:util";
import type { Redactor } from "./redactor.js";
import { storedJson, type ResultRow } from "./record.js";
import type { ResultColumns } from "./result-columns.js";
import type { ItemMark, StateStore } from "./state-store.js";
import { asWriteFailure } from "./write-failure.js";

const fdatasync = promisify(fdatasyncCallback);

interface Pending {
  line: string;
  mark: ItemMark;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The file operations the writer uses: the real ones, or a test's that fail on cue (a full disk). */
export interface PartialsFileOps {
  write(fd: number, bytes: Buffer, offset: number, length: number): number;
  fdatasync(fd: number): Promise<void>;
}

const FILE_OPS: PartialsFileOps = { write: (fd, bytes, offset, length) => writeSync(fd, bytes, offset, length), fdatasync };

export interface PartialsWriterOptions {
  /** fdatasync each batch, so rows survive a power cut and not only a killed process. */
  fsync: boolean;
  /** Longest wait before a batch is written, in ms. */
  maxDelayMs: number;
  maxBatch: number;
  fileOps?: PartialsFileOps;
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
  private readonly ops: PartialsFileOps;

  constructor(
    private readonly file: string,
    private readonly store: StateStore,
    private readonly redactor: Redactor,
    private readonly options: PartialsWriterOptions = { fsync: true, maxDelayMs: 5, maxBatch: 512 },
  ) {
    this.ops = options.fileOps ?? FILE_OPS;
    try {
      this.fd = openSync(file, "a");
    } catch (error) {
      throw asWriteFailure(file, error);
    }
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
    let position = this.offset;
    for (const entry of batch) {
      entry.mark.rowOffset = position;
      position += Buffer.byteLength(entry.line, "utf8");
    }
    const bytes = Buffer.from(batch.map((entry) => entry.line).join(""), "utf8");
    try {
      let written = 0;
      while (written < bytes.length) written += this.ops.write(this.fd, bytes, written, bytes.length - written);
      // fdatasync runs on libuv's thread pool: the event loop keeps serving model calls meanwhile.
      if (this.options.fsync) await this.ops.fdatasync(this.fd);
    } catch (error) {
      // Part of the batch may be in the file: cut it off so the file ends on a whole row (the recovery on
      // resume would, but a clean file is better evidence of what was saved). If even that fails, it stays
      // for the recovery.
      try {
        ftruncateSync(this.fd, this.offset);
      } catch {
        // The write's error is the one to report.
      }
      this.fail(batch, asWriteFailure(this.file, error));
      return;
    }
    try {
      this.offset += bytes.length;
      this.store.commit(
        batch.map((entry) => entry.mark),
        this.offset,
        this.columns,
      );
    } catch (error) {
      // The rows are in the file but not marked: the recovery on resume marks them, so they are not run again.
      this.fail(batch, asWriteFailure(this.store.file, error));
      return;
    }
    for (const entry of batch) entry.resolve();
  }

  // A disk that refuses writes ends the run: nothing after this point could be trusted as saved.
  private fail(batch: Pending[], error: unknown): void {
    this.failed = error;
    for (const entry of batch) entry.reject(error);
    for (const entry of this.pending.splice(0)) entry.reject(error);
  }

  /** Flushes everything and closes the file. */
  async close(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) {
      if (this.failed) break;
      await this.flush();
    }
    if (this.timer) clearTimeout(this.timer);
    try {
      closeSync(this.fd);
    } catch (error) {
      // Some file systems report a failed write only at close: then the batch before was not saved either.
      this.failed ??= asWriteFailure(this.file, error);
    }
  }
}
