import type { ResultRow } from "../../results/record.js";
import type { ResultColumns } from "../../results/result-columns.js";
import type { PartialsRepair } from "../../results/partials-repair.js";

/** What a store knows of one work key: its latest attempt's status. */
export interface KeyState {
  status: "ok" | "error";
  attempts: number;
}

/** What recovery did after a crash (a local store: rows on disk but unmarked, a torn last line). */
export interface RecoveryReport {
  recovered: number;
  truncatedBytes: number;
  rebuilt: boolean;
  /** Damaged rows found and set aside; their keys run again. */
  repair?: PartialsRepair;
}

/** Work a worker holds until its lease ends: keys to run, with the attempt each will be. */
export interface Claim {
  key: string;
  /** 1 + the attempts already recorded for the key. */
  attempt: number;
  /** The latest recorded attempt when it failed, for reuse (a response whose scoring failed is not regenerated). */
  previous?: ResultRow;
}

/**
 * Where a run's rows live. Every reader and writer of a run goes through this interface, so a distributed
 * store (many workers, one shared run) is another implementation of it, not another runner.
 *
 * The guarantees every implementation keeps (and test/helpers/run-store-conformance.ts checks):
 * - `append` resolves only once the row is durable AND its key is marked with its status, atomically: a
 *   key is never marked without its row, and a row on disk is never lost on recovery;
 * - after a crash, `recover` makes marks and rows agree again (no completed row lost, none doubled);
 * - `latestRows` yields exactly one row per key: its latest attempt;
 * - `claim` hands a key to one worker at a time until it is appended, released or its lease expires,
 *   and never hands out a key whose latest attempt is ok.
 */
export interface RunStore {
  /** Makes the store consistent after a crash; run once before any other call of a writing session. */
  recover(): Promise<RecoveryReport>;
  /** Claims the given keys (not done, not leased to another worker) for `leaseMs`; returns the claimed ones, in the order asked. */
  claim(keys: string[], leaseMs: number): Promise<Claim[]>;
  /** Extends this worker's leases (long items). */
  renew(keys: string[], leaseMs: number): Promise<void>;
  /** Gives keys back unfinished (a stopped run). */
  release(keys: string[]): Promise<void>;
  /** Durably appends an attempt and marks its key (group-committed; see above). */
  append(row: ResultRow): Promise<void>;
  /** Why appending failed, once it has: the store accepts nothing more. */
  readonly failure: unknown;
  /** The state of one key, or undefined when it has never been attempted. */
  lookup(key: string): Promise<KeyState | undefined>;
  /** Keys whose latest attempt succeeded or failed. */
  counts(): Promise<{ ok: number; error: number }>;
  /** The latest attempt of every key, streamed (what results.parquet holds). `upTo` excludes rows appended after it was taken. */
  latestRows(upTo?: StoreSnapshot): AsyncIterable<ResultRow>;
  /** A point in the store's history: rows appended after it are not read back by `latestRows(snapshot)`. */
  snapshot(): Promise<StoreSnapshot>;
  /** The result columns learned from every row (custom judge schemas and scorers add nested ones). */
  resultColumns(): Promise<ResultColumns>;
  /** Waits until every append so far is durable (and failed, if it failed); the store stays open. */
  flush(): Promise<void>;
  /** Flushes pending appends and releases resources. */
  close(): Promise<void>;
}

/** Opaque position in a store's history. */
export interface StoreSnapshot {
  readonly position: number;
}
