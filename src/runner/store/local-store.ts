import { mkdirSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { PartialsWriter } from "../../results/partials-writer.js";
import { latestRows, readRowAt } from "../../results/partials-reader.js";
import { reconcile } from "../../results/reconcile.js";
import { finishRepair, repairPartials } from "../../results/partials-repair.js";
import { CompactIdSet } from "../../datasets/id-set.js";
import { Redactor } from "../../results/redactor.js";
import type { ResultRow } from "../../results/record.js";
import type { ResultColumns } from "../../results/result-columns.js";
import { runFiles, type RunFiles } from "../../results/run-folder.js";
import { StateStore } from "../../results/state-store.js";
import { asWriteFailure } from "../../results/write-failure.js";
import type { Claim, KeyState, RecoveryReport, RunStore, StoreSnapshot } from "./types.js";

/**
 * The embedded store of one machine: partials.jsonl (every attempt, append-only, group-committed with
 * fdatasync) and state.sqlite (each key's status, and how far into the file those statuses account for).
 * One process holds a run at a time (the session's lock), so leases are only this process's own book.
 */
export class LocalRunStore implements RunStore {
  readonly files: RunFiles;
  private readonly state: StateStore;
  private writer: PartialsWriter | undefined;
  private readonly leases = new Map<string, number>();
  private readonly readonly: boolean;
  private failed: unknown;
  private closed = false;
  /**
   * When the store was empty when opened (a fresh run), the keys appended since, as 64-bit hashes: a key
   * not among them cannot be done, so claims never ask SQLite (a hit is confirmed there). Undefined on a
   * resume, where every claim asks.
   */
  private sessionKeys: CompactIdSet | undefined;

  constructor(
    outputDir: string,
    runId: string,
    private readonly redactor: Redactor,
    options: { readonly?: boolean } = {},
  ) {
    this.files = runFiles(outputDir, runId);
    this.readonly = options.readonly ?? false;
    if (!options.readonly) mkdirSync(this.files.folder, { recursive: true });
    this.state = new StateStore(this.files.state, options);
    this.sessionKeys = this.startsEmpty() ? new CompactIdSet() : undefined;
  }

  private startsEmpty(): boolean {
    const counts = this.state.counts();
    return counts.ok + counts.error === 0;
  }

  /** The key's state, asking SQLite only when it may have one. */
  private stateOf(key: string) {
    return this.sessionKeys && !this.sessionKeys.has(key) ? undefined : this.state.lookup(key);
  }

  async recover(): Promise<RecoveryReport> {
    // A repair a kill interrupted is finished first; then rows after the last commit are marked (a torn last
    // line cut); then the whole file is checked against the marks, and damage is set aside and run again.
    finishRepair(this.files.partials, this.state);
    const report: RecoveryReport = reconcile(this.files.partials, this.state);
    const repair = repairPartials(this.files.partials, this.state);
    if (repair) report.repair = repair;
    this.sessionKeys = this.startsEmpty() ? new CompactIdSet() : undefined;
    return report;
  }

  async claim(keys: string[], leaseMs: number): Promise<Claim[]> {
    const now = Date.now();
    const claimed: Claim[] = [];
    for (const key of keys) {
      const lease = this.leases.get(key);
      if (lease !== undefined && lease > now) continue;
      const state = this.stateOf(key);
      if (state?.status === "ok") continue;
      const claim: Claim = { key, attempt: (state?.attempts ?? 0) + 1 };
      if (state?.status === "error" && state.rowOffset !== null) {
        const previous = readRowAt(this.files.partials, state.rowOffset);
        if (previous?.key === key) claim.previous = previous;
      }
      this.leases.set(key, now + leaseMs);
      claimed.push(claim);
    }
    return claimed;
  }

  async renew(keys: string[], leaseMs: number): Promise<void> {
    const until = Date.now() + leaseMs;
    for (const key of keys) if (this.leases.has(key)) this.leases.set(key, until);
  }

  async release(keys: string[]): Promise<void> {
    for (const key of keys) this.leases.delete(key);
  }

  /**
   * A store for reading a run folder that may be live in another process (reports, the viewer, compare):
   * no recovery, no writes, no checkpoint on close.
   */
  static reader(folder: string): LocalRunStore {
    return new LocalRunStore(dirname(folder), basename(folder), new Redactor([]), { readonly: true });
  }

  append(row: ResultRow): Promise<void> {
    if (this.readonly) return Promise.reject(new Error("this store was opened for reading"));
    if (this.closed) return Promise.reject(new Error("this store is closed"));
    if (this.failed !== undefined) return Promise.reject(this.failed);
    try {
      this.writer ??= new PartialsWriter(this.files.partials, this.state, this.redactor);
    } catch (error) {
      // partials.jsonl cannot be opened (no permission, a read-only disk): as a failed write, it stops the session.
      this.failed = error;
      return Promise.reject(error);
    }
    this.sessionKeys?.add(row.key);
    // The lease holds until the row is marked, so the key cannot be claimed again in between.
    const key = row.key;
    const appended = this.writer.append(row);
    appended.then(
      () => this.leases.delete(key),
      () => undefined,
    );
    return appended;
  }

  /** Why appending failed, once it has; kept after the writer is flushed and closed. */
  get failure(): unknown {
    return this.failed ?? this.writer?.failure;
  }

  async lookup(key: string): Promise<KeyState | undefined> {
    const state = this.stateOf(key);
    return state ? { status: state.status, attempts: state.attempts } : undefined;
  }

  async counts(): Promise<{ ok: number; error: number }> {
    return this.state.counts();
  }

  async snapshot(): Promise<StoreSnapshot> {
    await this.writer?.flush();
    return { position: statSync(this.files.partials, { throwIfNoEntry: false })?.size ?? 0 };
  }

  latestRows(upTo?: StoreSnapshot): AsyncIterable<ResultRow> {
    return latestRows(this.files.partials, this.state, upTo?.position);
  }

  /** The result columns learned from every row so far (the local store learns them as rows are written). */
  async resultColumns(): Promise<ResultColumns> {
    return this.state.resultColumns();
  }

  /** Flushes pending rows; the store stays open. */
  async flush(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    await writer.close();
    this.failed ??= writer.failure;
    this.writer = undefined;
  }

  /** Flushes and closes; the state store is closed even when the flush fails (the flush's error is the one thrown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let failure: { error: unknown } | undefined;
    try {
      await this.flush();
    } catch (error) {
      failure = { error };
    }
    try {
      this.state.close();
    } catch (error) {
      // Secondary to a failed flush (most likely the same full disk): the flush's error is the one to report.
      failure ??= { error: asWriteFailure(this.files.state, error) };
    }
    if (failure) throw failure.error;
  }
}
