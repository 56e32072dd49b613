import { setMaxListeners } from "node:events";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../errors.js";
import { runConfigSchema, type RunConfig, type RunConfigInput } from "../config/schema.js";
import { checkDataset, streamSamples, type DatasetCheck, type FieldMapping } from "../datasets/dataset.js";
import { sha256File } from "../io/hash-file.js";
import { ensureRemoteDataset, isRemoteReference, type HubDownloadOptions } from "../io/download.js";
import { formatOf } from "../datasets/readers.js";
import { closeHttp } from "../providers/http.js";
import { readManifest, writeJsonAtomically, MANIFEST_SCHEMA_VERSION, type Manifest } from "../results/manifest.js";
import { PartialsWriter } from "../results/partials-writer.js";
import { reconcile } from "../results/reconcile.js";
import { Redactor } from "../results/redactor.js";
import { defaultRunId, runFiles, type RunFiles } from "../results/run-folder.js";
import { RunLog } from "../results/run-log.js";
import { StateStore } from "../results/state-store.js";
import type { RunSummary } from "../metrics/summary.js";
import type { SummaryOptions } from "./finalize.js";
import { finalizeRun } from "./finalize.js";
import type { RunReporter } from "../reports/progress.js";
import { VERSION } from "../version.js";
import { BUILTIN_MINI_SUITE, DEFAULT_LOCAL_MODEL } from "./defaults.js";
import { runPool } from "./pool.js";
import { prepareRun, type PreparedJudge, type PreparedRun, type PrepareHooks } from "./prepare.js";
import { disposeLocalModels } from "../providers/llamacpp/llamacpp-model.js";
import { processItem } from "./process-item.js";
import { WorkPlan } from "./work-items.js";

export interface RunControls {
  reporter?: RunReporter;
  /** Graceful stop (first Ctrl-C): start nothing new, let in-flight items finish. */
  stopSignal?: AbortSignal;
  /** Hard stop (second Ctrl-C): cancel in-flight calls; those keys stay not done. */
  abortSignal?: AbortSignal;
  /** Progress of model files downloaded for local models. */
  onDownloadProgress?: PrepareHooks["onDownloadProgress"];
  env?: NodeJS.ProcessEnv;
}

export interface RunOutcome {
  runId: string;
  folder: string;
  interrupted: boolean;
  /** Keys in the run, done and failed, across all sessions. */
  counts: { ok: number; error: number };
  rows: number;
  summary: RunSummary;
}

/** Runs (or resumes) an evaluation: test cases × models × personas × epochs → responses → verdicts → run folder. */
export async function run(input: RunConfigInput | RunConfig, controls: RunControls = {}): Promise<RunOutcome> {
  const config = runConfigSchema.parse(input);
  // With nothing chosen, the built-in mini suite runs on the default local model.
  if (config.models.length === 0) {
    config.models = [DEFAULT_LOCAL_MODEL];
    controls.reporter?.onMessage?.(`no --models given: using the default local model ${DEFAULT_LOCAL_MODEL} (downloaded once, about 490 MB)`);
  }
  if (!config.dataset && config.suite) {
    throw new UserError(`suite ${config.suite} needs its dataset: pass --dataset PATH${config.dataset_hint ? ` (${config.dataset_hint})` : ""}`);
  }
  let datasetSource: string | undefined;
  if (config.dataset && isRemoteReference(config.dataset)) {
    // Downloaded once into the cache; the run then reads (and hashes) the local copy like any other file.
    datasetSource = config.dataset;
    const options: HubDownloadOptions = {};
    if (controls.env) options.env = controls.env;
    if (controls.onDownloadProgress) options.onProgress = controls.onDownloadProgress;
    controls.reporter?.onMessage?.(`dataset ${datasetSource}`);
    try {
      config.dataset = await ensureRemoteDataset(datasetSource, options);
    } catch (error) {
      if (error instanceof UserError && config.dataset_hint) throw new UserError(`${error.message} (${config.dataset_hint})`);
      throw error;
    }
  }
  if (!config.dataset) {
    config.dataset = BUILTIN_MINI_SUITE;
    controls.reporter?.onMessage?.(`no --dataset given: running the built-in mini suite (${BUILTIN_MINI_SUITE})`);
  }
  // Every in-flight request listens on the abort signal; thousands may be in flight.
  if (controls.abortSignal) setMaxListeners(0, controls.abortSignal);
  const datasetPath = resolve(config.dataset);
  formatOf(datasetPath);
  const runId = config.run_id ?? defaultRunId();
  const files = runFiles(resolve(config.output_dir), runId);
  const reporter = controls.reporter ?? {};

  let log: RunLog | undefined;
  const prepared = await prepareRun(config, {
    onDownloadProgress: controls.onDownloadProgress,
    onRetry: (model, error, attempt, delayMs) =>
      log?.warn("retry", { model: model.address, error_type: error.type, status: error.status ?? null, attempt, delay_ms: Math.round(delayMs), message: error.message }),
    onServiceRetry: (service, error, attempt, delayMs) =>
      log?.warn("retry", { service, error_type: error.type, status: error.status ?? null, attempt, delay_ms: Math.round(delayMs), message: error.message }),
  }, controls.env);
  const redactor = new Redactor(prepared.secrets);

  const previous = await readManifest(files.manifest);
  const dataset = await checkOrReuse(datasetPath, config, previous);
  if (previous && previous.dataset.sha256 !== dataset.sha256) {
    throw new UserError(
      `run ${runId} was started on a different version of ${datasetPath} (sha256 ${previous.dataset.sha256.slice(0, 12)}…, now ${dataset.sha256.slice(0, 12)}…); ` +
        "resuming would mix results of two datasets: start a new run (another --run-id)",
    );
  }

  await mkdir(files.folder, { recursive: true });
  log = new RunLog(files.log, redactor);
  const store = new StateStore(files.state);
  try {
    const recovery = reconcile(files.partials, store);
    if (recovery.recovered || recovery.truncatedBytes || recovery.rebuilt) log.warn("reconciled", { ...recovery });
    log.info("run_start", { rss_mb: Math.round(process.memoryUsage().rss / 1e6), run_id: runId, resume: Boolean(previous), dataset: datasetPath, valid_rows: dataset.validRows, bad_rows: dataset.badRows });
    if (dataset.badRows > 0) {
      reporter.onMessage?.(`skipped ${dataset.badRows} invalid row(s) (--on-bad-row skip); first: ${dataset.problems[0]?.message ?? ""}`);
      for (const problem of dataset.problems) log.warn("bad_row", { problem: problem.message });
    }

    const manifest = buildManifest(previous, config, runId, datasetPath, dataset, prepared, datasetSource);
    await writeJsonAtomically(files.manifest, manifest);

    const total = dataset.validRows * prepared.models.length * prepared.personas.length * config.epochs;
    const interrupted = await execute(config, runId, files, prepared, store, redactor, log, reporter, dataset, total, controls);

    log.info("finalize_start", { rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
    const session = manifest.sessions[manifest.sessions.length - 1]!;
    session.ended_at = new Date().toISOString();
    session.interrupted = interrupted;
    manifest.updated_at = session.ended_at;
    const outcome = await finalizeRun(files, runId, store, summaryOptions(config));
    session.items_finished = outcome.counts.ok;
    await writeJsonAtomically(files.manifest, manifest);
    log.info("run_end", { interrupted, ...outcome.counts, rows: outcome.rows, rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
    return { ...outcome, runId, folder: files.folder, interrupted };
  } finally {
    store.close();
    log.close();
    await closeHttp();
    await disposeLocalModels();
  }
}

async function execute(
  config: RunConfig,
  runId: string,
  files: RunFiles,
  prepared: PreparedRun,
  store: StateStore,
  redactor: Redactor,
  log: RunLog,
  reporter: RunReporter,
  dataset: DatasetCheck,
  total: number,
  controls: RunControls,
): Promise<boolean> {
  const writer = new PartialsWriter(files.partials, store, redactor);
  const alreadyDone = store.counts().ok;
  reporter.onRunStart?.({ runId, total, alreadyDone: Math.min(alreadyDone, total), folder: files.folder });
  // With a judge, a key that failed only at judging keeps its response: the resume judges it again.
  const plan = WorkPlan.create(prepared.models, prepared.personas, config.epochs, store, prepared.judge ? files.partials : undefined);
  const items = plan.items(streamSamples(dataset, config.limit, plan.isFinished));
  const stopped = () => Boolean(controls.stopSignal?.aborted || controls.abortSignal?.aborted);
  try {
    // A lane moves on as soon as its row is handed to the writer: the writer alone decides when rows are
    // durable and marked done, and a lane waiting for the group commit would only idle its connection.
    await runPool(items, config.concurrency, async (item) => {
      const row = await processItem(runId, item, { judge: prepared.judge, signal: controls.abortSignal, scorers: prepared.scorers, services: prepared.services, respond: config.respond });
      if (!row) return;
      writer.append(row).catch(() => undefined); // a failed write stops the run below
      if (row.status === "error") log.warn("item_error", { key: row.key, error_type: row.error_type, error: row.error });
      reporter.onItemEnd?.({ ok: row.status === "ok", errorType: row.error_type });
    }, () => stopped() || writer.failure !== undefined);
  } finally {
    await writer.close();
    reporter.onRunEnd?.({ interrupted: stopped() });
  }
  if (writer.failure !== undefined) throw new UserError(`cannot write ${files.partials}: ${(writer.failure as Error).message}; the run stopped, finished rows before the failure are kept`);
  return stopped();
}

/**
 * The validation pass, skipped on resume when the file is byte-for-byte the one already validated with no
 * bad rows (its hash proves it), so a large resume starts calling within seconds.
 */
async function checkOrReuse(path: string, config: RunConfig, previous: Manifest | undefined): Promise<DatasetCheck> {
  const checked = previous?.dataset;
  if (checked && checked.path === path && checked.bad_rows === 0 && checked.limit === (config.limit ?? null)) {
    const sha256 = await sha256File(path);
    if (sha256 === checked.sha256) {
      const reused: DatasetCheck = { file: path, sha256, validRows: checked.valid_rows, badRows: 0, skippedLines: new Set(), problems: [] };
      const mapping = fieldMapping(config);
      if (mapping) reused.mapping = mapping;
      return reused;
    }
  }
  return checkDataset(path, config.on_bad_row, config.limit, fieldMapping(config));
}

function fieldMapping(config: RunConfig): FieldMapping | undefined {
  const mapping: FieldMapping = {};
  if (config.id_field) mapping.id = config.id_field;
  if (config.prompt_field) mapping.prompt = config.prompt_field;
  if (config.category_field) mapping.category = config.category_field;
  if (config.subcategory_field) mapping.subcategory = config.subcategory_field;
  if (config.context_field) mapping.context = config.context_field;
  const tags = [...new Set([...config.group_by, ...(config.cluster_by ? [config.cluster_by] : [])])];
  if (tags.length > 0) mapping.tags = tags;
  if (config.choices_field) mapping.choices = config.choices_field;
  if (config.answer_field) mapping.answer = config.answer_field;
  return Object.keys(mapping).length > 0 ? mapping : undefined;
}

/** How the run's summary is built: its headlines, its clusters and its tag breakdowns. */
export function summaryOptions(config: RunConfig): SummaryOptions {
  return { headlines: config.headlines, clusterBy: config.cluster_by, groupBy: config.group_by };
}

function buildManifest(previous: Manifest | undefined, config: RunConfig, runId: string, datasetPath: string, dataset: DatasetCheck, prepared: PreparedRun, source: string | undefined): Manifest {
  const now = new Date().toISOString();
  const judge = prepared.judge;
  return {
    schema_version: MANIFEST_SCHEMA_VERSION,
    tool: { name: "alignbench", version: VERSION },
    run_id: runId,
    created_at: previous?.created_at ?? now,
    updated_at: now,
    sessions: [...(previous?.sessions ?? []), { kind: "run", started_at: now, judge_model: judge?.address ?? null }],
    config: { ...config, dataset: datasetPath, output_dir: resolve(config.output_dir), run_id: runId },
    dataset: { path: datasetPath, ...(source ? { source } : {}), format: formatOf(datasetPath), sha256: dataset.sha256, valid_rows: dataset.validRows, bad_rows: dataset.badRows, limit: config.limit ?? null },
    models: prepared.models.map((model) => ({
      address: model.address,
      provider: model.resolved.providerName,
      model_id: model.resolved.model.modelId,
      options: model.options,
      max_concurrency: model.resolved.maxConcurrency ?? null,
      rate_limit_rps: model.resolved.rateLimitRps ?? config.rate_limit_rps ?? null,
    })),
    personas: prepared.personas.filter((persona) => persona !== undefined),
    judge: judge ? judgeManifestEntry(config, judge) : null,
    scorers: prepared.scorers.map((entry) => ({ name: entry.name, description: entry.description })),
    environment: { node: process.version, platform: `${process.platform}-${process.arch}` },
  };
}

export function judgeManifestEntry(config: RunConfig, judge: PreparedJudge): NonNullable<Manifest["judge"]> {
  return {
    model: judge.address,
    prompt: judge.promptLabel,
    prompt_template: judge.promptTemplate,
    schema: judge.schema,
    structured_output: config.judge.structured_output,
    repair_attempts: config.judge.repair_attempts,
    options: { ...config.judge.options, ...judge.resolved.model.defaults },
  };
}
