import { setMaxListeners } from "node:events";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { inertJson, inertLine } from "../common/inert-text.js";
import { EnvironmentError } from "../errors.js";
import { closeHttp } from "../providers/http.js";
import { disposeLocalModels } from "../providers/llamacpp/llamacpp-loading.js";
import type { LanguageModel } from "../providers/types.js";
import { manifestConfig, readManifest, writeJsonAtomically, type Manifest, type ManifestSession } from "../results/manifest.js";
import type { Redactor } from "../results/redactor.js";
import type { ResultRow } from "../results/record.js";
import { RunLog } from "../results/run-log.js";
import { refuseRunFolderLinks } from "../results/run-links.js";
import { folderFiles, runFiles, type RunFiles } from "../results/run-folder.js";
import { FileWriteError, isEnvironmentFailure, osMessage, removeQuietly } from "../results/write-failure.js";
import { finalizeRun, type FinalizeOutcome, type SummaryExtras, type SummaryOptions } from "./finalize.js";
import { runPool } from "./pool.js";
import type { RunReporter } from "./reporter.js";
import { LocalRunStore } from "./store/local-store.js";
import type { RunStore } from "./store/types.js";
import type { PartialsRepair } from "../results/partials-repair.js";

const openLocalStore = (outputDir: string, runId: string, redactor: Redactor): RunStore => new LocalRunStore(outputDir, runId, redactor);
import { RunLock } from "./store/lock.js";

export interface SessionControls {
  reporter?: RunReporter;
  /** Graceful stop (first Ctrl-C): start nothing new, let in-flight items finish. */
  stopSignal?: AbortSignal;
  /** Hard stop (second Ctrl-C): cancel in-flight calls; those keys stay not done. */
  abortSignal?: AbortSignal;
}

export interface SessionOptions {
  outputDir: string;
  runId: string;
  /** What is working on the run (`run`, `rejudge`, `judge-eval`), for the lock and the manifest. */
  kind: ManifestSession["kind"];
  redactor: Redactor;
  /** Models to dispose of when the session ends. */
  models?: LanguageModel[];
  /** Tells the user something they must know now (damaged rows found and set aside). */
  onMessage?: (message: string) => void;
  /** Where the run's rows live: the local store (partials.jsonl + state.sqlite) unless given. */
  openStore?: (outputDir: string, runId: string, redactor: Redactor) => RunStore;
}

/**
 * One working session on a run, whatever the command: the exclusive lock on the run folder, the log, the
 * store brought in line after any crash, the durable writer, the pool of work, finalize, the manifest's
 * session entry, and the disposal of models and connections. `run`, `rejudge` and `judge-eval` all go
 * through it, and so does every later stage, so none of them can forget a step.
 */
export class RunSession {
  readonly folder: string;
  readonly store: RunStore;
  /** The run folder's files (the log, the lock, the manifest and the final results live here whatever the store). */
  readonly files: RunFiles;
  readonly log: RunLog;
  private readonly lock: RunLock;
  private manifest: Manifest | undefined;
  private closed = false;
  /** The error that ended the session's work, if one did: errors while closing are then secondary. */
  private failure: unknown;

  private constructor(
    private readonly options: SessionOptions,
    lock: RunLock,
    store: RunStore,
    log: RunLog,
  ) {
    this.folder = join(options.outputDir, options.runId);
    this.lock = lock;
    this.store = store;
    this.files = folderFiles(this.folder);
    this.log = log;
  }

  /** Locks the run folder (refusing if another live process holds it), opens its log and store, and recovers the store. */
  static async open(options: SessionOptions): Promise<RunSession> {
    const folder = join(options.outputDir, options.runId);
    const files = folderFiles(folder);
    // A resumed folder may hold links (planted, or from an archive): refused before anything is opened through one.
    refuseRunFolderLinks(folder);
    let lock: RunLock;
    try {
      mkdirSync(folder, { recursive: true });
      lock = RunLock.acquire(files.lock, `alignbench ${options.kind}`);
    } catch (error) {
      // An output folder that cannot be written (no permission, a full disk) is the machine's, not a bug.
      throw writeStopped(error, options, undefined);
    }
    let store: RunStore | undefined;
    let log: RunLog | undefined;
    try {
      // Temporary files of a session killed while writing them: nobody else writes here while we hold the lock.
      for (const file of [files.parquet, files.csv, files.summary, files.manifest, files.judgeEval, files.itemIndex]) removeQuietly(file + ".tmp");
      log = new RunLog(files.log, options.redactor);
      if (lock.tookOver) log.warn("lock_taken_over", { previous_pid: lock.tookOver.pid, previous_command: lock.tookOver.command, previous_since: lock.tookOver.since });
      store = (options.openStore ?? openLocalStore)(options.outputDir, options.runId, options.redactor);
      const { repair, ...recovery } = await store.recover();
      if (recovery.recovered || recovery.truncatedBytes || recovery.rebuilt) log.warn("reconciled", { ...recovery });
      if (repair) reportRepair(repair, options, log);
      return new RunSession(options, lock, store, log);
    } catch (error) {
      const stopped = writeStopped(error, options, log);
      try {
        await store?.close();
      } catch (closeError) {
        log?.warn("close_failed", { error: osMessage(closeError) });
      }
      log?.close();
      lock.release();
      throw stopped;
    }
  }

  /** Records this session in the manifest (written now, so a killed session is still on record). */
  async begin(manifest: Manifest, entry: Omit<ManifestSession, "kind" | "started_at"> = {}): Promise<ManifestSession> {
    const session: ManifestSession = { kind: this.options.kind, started_at: new Date().toISOString(), ...entry };
    manifest.sessions.push(session);
    manifest.updated_at = session.started_at;
    // Settings as the manifest may show them (no header values, no URL credentials): also for a manifest an
    // older version wrote with them, which a rejudge or resume rewrites.
    if (manifest.config) manifest.config = manifestConfig(manifest.config);
    this.manifest = manifest;
    await this.guard(() => writeJsonAtomically(this.files.manifest, manifest));
    return session;
  }

  /**
   * Runs `work` over `items` with at most `concurrency` in flight, appending each returned row to the store
   * (undefined: cancelled, the key stays not done). Returns whether the session was stopped before the
   * items ran out.
   */
  async process<T>(
    items: AsyncIterable<T>,
    concurrency: number,
    work: (item: T) => Promise<ResultRow | undefined>,
    progress: { total: number; alreadyDone: number },
    controls: SessionControls = {},
  ): Promise<boolean> {
    const reporter = controls.reporter ?? {};
    if (controls.abortSignal) setMaxListeners(0, controls.abortSignal);
    const stopped = () => Boolean(controls.stopSignal?.aborted || controls.abortSignal?.aborted);
    reporter.onRunStart?.({ runId: this.options.runId, total: progress.total, alreadyDone: Math.min(progress.alreadyDone, progress.total), folder: this.folder });
    try {
      // A lane moves on as soon as its row is handed to the store: the store alone decides when rows are
      // durable and marked done, and a lane waiting for the group commit would only idle its connection.
      await runPool(
        items[Symbol.asyncIterator](),
        concurrency,
        async (item) => {
          const row = await work(item);
          if (!row) return;
          this.store.append(row).catch(() => undefined); // a failed write stops the session below
          if (row.status === "error") this.log.warn("item_error", { key: row.key, error_type: row.error_type, error: row.error });
          reporter.onItemEnd?.({ ok: row.status === "ok", errorType: row.error_type });
        },
        () => stopped() || this.store.failure !== undefined,
      );
    } catch (error) {
      throw this.stop(error);
    } finally {
      await this.guard(() => this.store.flush());
      reporter.onRunEnd?.({ interrupted: stopped() });
    }
    if (this.store.failure !== undefined) throw this.stop(this.store.failure);
    return stopped();
  }

  /** Writes results.parquet, results.csv and summary.json from the store, and closes the manifest's session entry. */
  async finalize(options: SummaryOptions, interrupted: boolean, extras?: SummaryExtras): Promise<FinalizeOutcome> {
    this.log.info("finalize_start", { rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
    const outcome = await this.guard(() => finalizeRun(this.files, this.options.runId, this.store, options, extras));
    const manifest = this.manifest;
    const session = manifest?.sessions.at(-1);
    if (manifest && session) {
      session.ended_at = new Date().toISOString();
      session.interrupted = interrupted;
      session.items_finished = outcome.counts.ok;
      manifest.updated_at = session.ended_at;
      await this.guard(() => writeJsonAtomically(this.files.manifest, manifest));
    }
    return outcome;
  }

  /** Runs one step of the session's work (a command's own file, too); a refused write becomes the error that stops the session. */
  async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw this.stop(error);
    }
  }

  private stop(error: unknown): unknown {
    const stopped = writeStopped(error, this.options, this.log);
    this.failure ??= stopped;
    return stopped;
  }

  /**
   * Releases everything: store, log, lock, HTTP connections, local models. Safe to call twice. Every step
   * runs even when one before it fails. After the session's work failed, errors while closing are secondary
   * (most often the same full disk): they go to run.log and the first error stays the one reported.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let closeError: { error: unknown } | undefined;
    const attempt = async (step: string, release: () => unknown): Promise<void> => {
      try {
        await release();
      } catch (error) {
        this.log.warn("close_failed", { step, error: osMessage(error) });
        closeError ??= { error: step === "store" ? writeStopped(error, this.options, this.log) : error };
      }
    };
    await attempt("store", () => this.store.close());
    await attempt("http", () => closeHttp());
    for (const model of new Set(this.options.models ?? [])) await attempt("model", () => model.dispose?.());
    await attempt("models", () => disposeLocalModels());
    this.log.close();
    this.lock.release();
    if (closeError && this.failure === undefined) throw closeError.error;
  }
}

/**
 * A refused write (disk full, no permission, an I/O error) as the user needs it: which file, the OS's
 * error, that the rows finished before are kept, and how to resume; logged in run.log while that still
 * takes lines. Any other error (a bug) is returned as it is.
 */
function writeStopped(error: unknown, options: SessionOptions, log: RunLog | undefined): unknown {
  if (!isEnvironmentFailure(error)) return error;
  // Node's file errors carry their path: the message names the file whichever step failed.
  const path = (error as { path?: unknown }).path;
  if (!(error instanceof FileWriteError) && typeof path === "string") error = new FileWriteError(path, error);
  const file = error instanceof FileWriteError ? error.file : undefined;
  log?.error("write_failed", { file: file ?? null, error: osMessage(error) });
  const what = error instanceof FileWriteError ? error.message : `cannot write the run folder ${join(options.outputDir, options.runId)}: ${osMessage(error)}`;
  return new EnvironmentError(`${what}\nthe ${options.kind} stopped; rows finished before the failure are kept. Free space (or fix the permissions), then resume: ${resumeCommand(options)}`);
}

const SHOWN_LINES = 5;
const LOGGED = 1_000;

/** Damaged rows set aside: each line in run.log, the first few and the keys that run again on the terminal. */
function reportRepair(repair: PartialsRepair, options: SessionOptions, log: RunLog): void {
  for (const damaged of repair.damaged.slice(0, LOGGED)) log.warn("partials_damaged", { line: damaged.line, offset: damaged.offset, problem: damaged.problem });
  log.warn("partials_repaired", { kept_as: repair.copy, damaged_lines: repair.damaged.length, rerun_count: repair.rerun.length, rerun: repair.rerun.slice(0, LOGGED) });
  const lines = repair.damaged.slice(0, SHOWN_LINES).map((damaged) => `  line ${damaged.line}: ${inertLine(damaged.problem)}`);
  if (repair.damaged.length > SHOWN_LINES) lines.push(`  … and ${repair.damaged.length - SHOWN_LINES} more (run.log lists them)`);
  const keys = repair.rerun.slice(0, SHOWN_LINES).map((key) => inertJson(JSON.stringify(key)));
  if (repair.rerun.length > SHOWN_LINES) keys.push(`… and ${repair.rerun.length - SHOWN_LINES} more`);
  const again = options.kind !== "rejudge" ? "run again now" : `run again when the run is resumed (${resumeCommand({ ...options, kind: "run" })})`;
  options.onMessage?.(
    [
      `partials.jsonl is damaged: ${repair.damaged.length} line(s) cannot be trusted:`,
      ...lines,
      `the file as it was is kept as ${repair.copy}; partials.jsonl now holds only the valid rows, and ${repair.rerun.length} key(s) ${again}${keys.length > 0 ? `: ${keys.join(", ")}` : ""}`,
    ].join("\n"),
  );
}

function resumeCommand(options: SessionOptions): string {
  if (options.kind === "rejudge") return `alignbench rejudge ${options.runId} …`;
  return `alignbench ${options.kind} … --run-id ${options.runId}`;
}

/** The manifest of a run folder, or undefined for a new run. */
export async function existingManifest(outputDir: string, runId: string): Promise<Manifest | undefined> {
  return readManifest(runFiles(outputDir, runId).manifest);
}
