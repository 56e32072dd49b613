import { setMaxListeners } from "node:events";
import { join, resolve } from "node:path";
import { InterruptedError, UserError } from "../errors.js";
import { runConfigSchema, type RunConfig, type RunConfigInput } from "../config/schema.js";
import { withDriftAlternatives } from "../config/drift-alternatives.js";
import { checkDataset, streamSamples, type DatasetCheck } from "../datasets/dataset.js";
import { fieldMapping, runTags } from "./field-mapping.js";
import { checkParts, streamParts, type PartsCheck } from "../datasets/parts.js";
import { partsManifest, resolveParts } from "./dataset-parts.js";
import { sha256File } from "../io/hash-file.js";
import { ensureRemoteDataset, isRemoteReference, type HubDownloadOptions } from "../io/download.js";
import { formatOf } from "../datasets/readers.js";
import { MANIFEST_SCHEMA_VERSION, manifestConfig, type Manifest } from "../results/manifest.js";
import { runSummaryOptions } from "../metrics/declarations.js";
import { Redactor } from "../results/redactor.js";
import { noteSecrets } from "../secrets.js";
import { redactUrl, urlCredentials } from "../providers/url.js";
import { defaultRunId } from "../results/run-folder.js";
import type { RunSummary } from "../metrics/summary.js";
import type { RunReporter } from "./reporter.js";
import { VERSION } from "../version.js";
import { closeHttp } from "../providers/http.js";
import type { LanguageModel } from "../providers/types.js";
import type { EndpointStats } from "../providers/endpoints/endpoint-pool.js";
import { disposeLocalModels } from "../providers/llamacpp/llamacpp-loading.js";
import { BUILTIN_MINI_SUITE, DEFAULT_LOCAL_MODEL } from "./defaults.js";
import { prepareRun, type PreparedJudge, type PreparedRun, type PrepareHooks } from "./prepare.js";
import { processItem } from "./process-item.js";
import { TURN_JOURNAL_FILE, TurnJournal } from "./turn-journal.js";
import { runPins } from "./run-pins.js";
import { checkOffline } from "./offline-check.js";
import { installOfflineGuard, type OfflineGuard } from "../io/offline-guard.js";
import { recordOffline } from "./offline-record.js";
import { warnChangedSettings } from "./settings-change.js";
import { CostBudget } from "./cost-budget.js";
import { runPrices } from "../metrics/prices.js";
import { processViaQueue } from "./queue/coordinator.js";
import { preflight, type PreflightResult } from "./preflight.js";
import { eitherSignal, throwIfStopped, untilStopped } from "./early-stop.js";
import type { FailureSummary } from "./failures.js";
import { existingManifest, RunSession } from "./session.js";
import { RunLockedError } from "./store/lock.js";
import { itemsPerTest, runAxes, WorkLayout } from "./work-items.js";

export interface RunControls {
  reporter?: RunReporter;
  /**
   * Graceful stop (first Ctrl-C): start nothing new, let in-flight items finish. Before the run folder opens
   * (downloads, the model load, the preflight) it, like the abort signal, stops the run at once with an
   * InterruptedError, writing no folder.
   */
  stopSignal?: AbortSignal;
  /** Hard stop (second Ctrl-C): cancel in-flight calls; those keys stay not done. */
  abortSignal?: AbortSignal;
  /** Progress of model files downloaded for local models. */
  onDownloadProgress?: PrepareHooks["onDownloadProgress"];
  env?: NodeJS.ProcessEnv;
  /** Called just before the run folder opens: from then on the stop signal is a graceful stop. */
  onStart?: () => void;
}

export interface RunOutcome {
  runId: string;
  folder: string;
  interrupted: boolean;
  /** Keys in the run, done and failed, across all sessions. */
  counts: { ok: number; error: number };
  rows: number;
  summary: RunSummary;
  /** Items still failed (across all sessions), by error type with their first causes. */
  failures: FailureSummary;
  /** Why the run stopped before its items ran out, when not by a signal: the --max-cost budget. */
  stoppedBy?: "max_cost";
  /** What this session's calls cost at the run's prices (with --max-cost). */
  sessionCostUsd?: number;
}

/** Runs (or resumes) an evaluation: test cases × models × personas × epochs → responses → verdicts → run folder. */
export async function run(input: RunConfigInput | RunConfig, controls: RunControls = {}): Promise<RunOutcome> {
  // A drift run's `drift:` block becomes its parts here too (library callers skip resolveRunConfig); idempotent.
  const config = withDriftAlternatives(runConfigSchema.parse(input));
  // Before the run folder opens, either signal stops everything at once: nothing is written until then.
  const early = eitherSignal(controls.stopSignal, controls.abortSignal);
  throwIfStopped(early);
  // With nothing chosen, the built-in mini suite runs on the default local model.
  if (config.models.length === 0) {
    config.models = [DEFAULT_LOCAL_MODEL];
    controls.reporter?.onMessage?.(`no --models given: using the default local model ${DEFAULT_LOCAL_MODEL} (downloaded once, about 490 MB)`);
  }
  if (!config.offline) return runConfigured(config, controls, undefined);
  // --offline: every role, dataset and service is checked before anything is downloaded, loaded or called, and
  // from then on the process refuses any connection but to loopback (and the listed hosts) at the socket.
  checkOffline(config, controls.env ?? process.env);
  const guard = installOfflineGuard(config.allow_hosts);
  try {
    return await runConfigured(config, controls, guard);
  } finally {
    guard.uninstall();
  }
}

async function runConfigured(config: RunConfig, controls: RunControls, guard: OfflineGuard | undefined): Promise<RunOutcome> {
  // Before the run folder opens, either signal stops everything at once: nothing is written until then.
  const early = eitherSignal(controls.stopSignal, controls.abortSignal);
  throwIfStopped(early);
  // A run over several named datasets (config `datasets:`) reads them all; the rest of this path is one file's.
  const parts = config.datasets ? await untilStopped(resolveParts(config, downloadOptions(controls, early), controls.reporter?.onMessage), early) : undefined;
  if (!parts && !config.dataset && config.suite) {
    throw new UserError(`suite ${config.suite} needs its dataset: pass --dataset PATH${config.dataset_hint ? ` (${config.dataset_hint})` : ""}`);
  }
  let datasetSource: string | undefined;
  if (config.dataset && isRemoteReference(config.dataset)) {
    // Downloaded once into the cache; the run then reads (and hashes) the local copy like any other file.
    datasetSource = config.dataset;
    noteSecrets(urlCredentials(datasetSource)); // a signed URL's token is not printed
    controls.reporter?.onMessage?.(`dataset ${datasetSource}`);
    try {
      config.dataset = await untilStopped(ensureRemoteDataset(datasetSource, downloadOptions(controls, early)), early);
    } catch (error) {
      if (error instanceof UserError && !(error instanceof InterruptedError) && config.dataset_hint) throw new UserError(`${error.message} (${config.dataset_hint})`);
      throw error;
    }
  }
  if (!parts && !config.dataset) {
    config.dataset = BUILTIN_MINI_SUITE;
    controls.reporter?.onMessage?.(`no --dataset given: running the built-in mini suite (${BUILTIN_MINI_SUITE})`);
  }
  // A Redis password in --queue is a secret like a key: never printed nor written.
  if (config.queue) noteSecrets(urlCredentials(config.queue));
  // Every in-flight request listens on the abort signal; thousands may be in flight.
  if (controls.abortSignal) setMaxListeners(0, controls.abortSignal);
  const datasetPath = parts ? parts.label : resolve(config.dataset!);
  if (!parts) formatOf(datasetPath);
  const runId = config.run_id ?? defaultRunId();
  const reporter = controls.reporter ?? {};

  let session: RunSession | undefined;
  // Downloads stop on the signal; llama.cpp cannot stop a model load, so the run stops waiting for it instead.
  const prepared = await untilStopped(
    prepareRun(
      config,
      {
        signal: early,
        onDownloadProgress: controls.onDownloadProgress,
        onRetry: (model, error, attempt, delayMs) =>
          session?.log.warn("retry", { model: model.address, error_type: error.type, status: error.status ?? null, attempt, delay_ms: Math.round(delayMs), message: error.message }),
        onServiceRetry: (service, error, attempt, delayMs) =>
          session?.log.warn("retry", { service, error_type: error.type, status: error.status ?? null, attempt, delay_ms: Math.round(delayMs), message: error.message }),
      },
      controls.env,
    ),
    early,
  ).catch((error: unknown) => {
    if (error instanceof InterruptedError) releaseUnstarted();
    throw error;
  });
  const redactor = new Redactor(prepared.secrets);
  const outputDir = resolve(config.output_dir);

  const models = [...prepared.models, ...Object.values(prepared.roles)].map((model) => model.resolved.model);
  let previous: Manifest | undefined;
  let dataset: DatasetCheck | PartsCheck;
  let checked: PreflightResult[] | undefined;
  let axes: ReturnType<typeof runAxes>;
  try {
    // Validated before the run folder is touched, so bad input leaves nothing behind…
    previous = await untilStopped(existingManifest(outputDir, runId), early);
    dataset = await untilStopped<DatasetCheck | PartsCheck>(parts ? checkParts(parts.readings, config.on_bad_row) : checkOrReuse(datasetPath, config, previous), early);
    sameDataset(runId, datasetPath, previous, dataset);
    samePlan(runId, previous, prepared.plan.name);
    // Before the folder is touched, and only when items are left to run: a resume with nothing to do calls nobody.
    axes = runAxes(prepared.models, prepared.personas, config.epochs, prepared.plan.axes?.(config.plan_options));
    const finished = previous?.sessions.at(-1)?.items_finished ?? 0;
    if (config.preflight && finished < dataset.validRows * itemsPerTest(axes)) {
      const all = [...prepared.models, ...Object.values(prepared.roles)];
      // Local models were loaded by prepareRun: that was their check, and there is nothing to wait for.
      if (all.some((model) => !model.resolved.model.prepare)) controls.reporter?.onMessage?.("preflight: one short call per model…");
      checked = await untilStopped(preflight(all, { scoringOnly: prepared.plan.name === "none", completion: prepared.plan.targetCapabilities?.includes("complete") ?? false, signal: early }), early);
      for (const result of checked) if (result.outcome === "warning") controls.reporter?.onMessage?.(`preflight: ${result.address} answered with an error; running anyway: ${result.note}`);
    }
    if (prepared.plan.check) for (const target of prepared.models) await untilStopped(prepared.plan.check({ ...prepared.roles, target }, config.plan_options), early);
    // The last moment a signal stops the run at once; from here on it is a graceful stop (nothing runs in between).
    throwIfStopped(early);
    controls.onStart?.();
    session = await RunSession.open({ outputDir, runId, kind: "run", redactor, models, onMessage: (message) => reporter.onMessage?.(message) }).catch((error: unknown) => {
      if (error instanceof RunLockedError) throw new RunLockedError(`run ${runId}: ${error.message}`);
      throw error;
    });
  } catch (error) {
    // Models loaded and connections opened for a run that never started are released; not waited for when
    // interrupted, as a model still loading frees only once loaded.
    if (error instanceof InterruptedError) {
      releaseUnstarted();
      throw error;
    }
    await closeHttp();
    await disposeLocalModels();
    throw error;
  }
  try {
    // …and checked again under the lock: another process may have started or advanced the run meanwhile.
    const current = await existingManifest(outputDir, runId);
    if (current?.updated_at !== previous?.updated_at) {
      previous = current;
      sameDataset(runId, datasetPath, previous, dataset);
      samePlan(runId, previous, prepared.plan.name);
    }
    const { log, store } = session;
    // Endpoint pools (base_urls, concurrency: auto) log ejections, returns and each change of concurrency.
    // One pool per provider, shared by its models.
    for (const model of models) if (model.endpoints) model.endpoints.onEvent = (event) => log.info(event.event, { provider: model.provider, ...event });
    log.info("run_start", {
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
      run_id: runId,
      resume: Boolean(previous),
      dataset: datasetPath,
      valid_rows: dataset.validRows,
      bad_rows: dataset.badRows,
      plan: prepared.plan.name,
    });
    if (checked) for (const result of checked) log.info("preflight", { ...result });
    else log.info("preflight_skipped", { reason: config.preflight ? "no items left to run" : "preflight: false" });
    if (dataset.badRows > 0) {
      reporter.onMessage?.(`skipped ${dataset.badRows} invalid row(s) (--on-bad-row skip); first: ${dataset.problems[0]?.message ?? ""}`);
      for (const problem of dataset.problems) log.warn("bad_row", { problem: problem.message });
    }
    const counts = await store.counts();
    const layout = new WorkLayout(axes, store, counts.ok + counts.error > 0);
    const manifest = buildManifest(previous, config, runId, datasetPath, dataset, prepared, datasetSource, layout.dimensions);
    if (parts && "parts" in dataset) manifest.dataset = partsManifest(parts, dataset, config.limit);
    manifest.items_per_test = itemsPerTest(axes);
    manifest.pins = await runPins(manifest, config, prepared);
    warnChangedSettings(previous, manifest, log, reporter);
    await session.begin(manifest, { judge_model: prepared.judge?.address ?? null });

    const total = dataset.validRows * itemsPerTest(axes);
    const journal = prepared.plan.resumesTurns ? TurnJournal.open(join(session.folder, TURN_JOURNAL_FILE)) : undefined;
    const settings = { plan: prepared.plan, roles: prepared.roles, planOptions: config.plan_options, scorers: prepared.scorers, services: prepared.services, signal: controls.abortSignal, journal };
    const items = layout.items("parts" in dataset ? streamParts(dataset, layout.isFinished) : streamSamples(dataset, config.limit, layout.isFinished));
    // --max-cost: each finished row's calls are priced; at the budget, nothing new starts (a graceful stop,
    // as the first Ctrl-C: the items in flight finish and are kept, and the run resumes where it stopped).
    const budget = config.max_cost !== undefined ? new CostBudget(config.max_cost, runPrices(manifest)) : undefined;
    const unpriced = budget ? [...manifest.models, ...Object.values(manifest.roles ?? {})].map((model) => model.address).filter((address) => !budget.prices[address]) : [];
    if (unpriced.length > 0) reporter.onMessage?.(`--max-cost: no price for ${unpriced.join(", ")}: their calls count nothing toward the budget (give their prices under prices: in the config)`);
    const work = budget
      ? budget.watch((item: Parameters<typeof processItem>[1]) => processItem(runId, item, settings), log, reporter)
      : (item: Parameters<typeof processItem>[1]) => processItem(runId, item, settings);
    const sessionControls = budget ? { ...controls, stopSignal: eitherSignal(controls.stopSignal, budget.signal) } : controls;
    // With a queue, workers elsewhere process the items and this process collects their rows (runner/queue/);
    // --max-cost then counts nothing here (the workers make the calls).
    const interrupted = config.queue
      ? await processViaQueue(items, {
          queueUrl: config.queue,
          spec: { version: 1, runId, config },
          store,
          log,
          reporter,
          progress: { total, alreadyDone: counts.ok },
          stopSignal: sessionControls.stopSignal,
        })
      : await session.process(items, config.concurrency, work, { total, alreadyDone: counts.ok }, sessionControls);

    recordOffline(manifest, previous, guard, log, reporter);
    if (prepared.cache) {
      const { hits, stored, nondeterministic } = prepared.cache.counters;
      log.info("response_cache", { file: prepared.cache.cache.file, hits, stored, nondeterministic });
      reporter.onMessage?.(
        `response cache: ${hits} answer(s) reused, ${stored} stored${nondeterministic > 0 ? `, ${nondeterministic} sampled call(s) not cached (temperature above 0 without a seed; --cache-nondeterministic caches them)` : ""}`,
      );
    }
    const endpoints = endpointCounters(models);
    if (endpoints) log.info("endpoint_stats", { endpoints });
    const outcome = await session.finalize(runSummaryOptions(manifest), interrupted, endpoints ? { endpoints } : {});
    if (journal && !interrupted && outcome.counts.error === 0) journal.remove();
    log.info("run_end", { interrupted, ...outcome.counts, rows: outcome.rows, rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
    return { ...outcome, runId, folder: session.folder, interrupted, ...(budget?.reached ? { stoppedBy: "max_cost" as const } : {}), ...(budget ? { sessionCostUsd: budget.spent } : {}) };
  } finally {
    prepared.cache?.cache.close();
    await session.close();
  }
}

/** Per-endpoint counters of the providers served by endpoint pools, by provider name; undefined when none is. */
function endpointCounters(models: LanguageModel[]): Record<string, EndpointStats[]> | undefined {
  const pooled = models.filter((model) => model.endpoints);
  if (pooled.length === 0) return undefined;
  return Object.fromEntries(pooled.map((model) => [model.provider, model.endpoints!.stats()]));
}

/** A resume must run the plan the run started with: rows of two plans under one key would not compare. */
function samePlan(runId: string, previous: Manifest | undefined, plan: string): void {
  const started = previous ? (previous.plan ?? "generate") : undefined;
  // 0.1 folders ran the generate plan (or, for log-likelihood suites, no call at all).
  if (started && started !== plan && !(previous!.plan === undefined && plan === "none")) {
    throw new UserError(`run ${runId} was started with the plan "${started}", not "${plan}": resume it with --plan ${started}, or start a new run (another --run-id)`);
  }
}

function sameDataset(runId: string, datasetPath: string, previous: Manifest | undefined, dataset: Pick<DatasetCheck, "sha256">): void {
  if (previous && previous.dataset.sha256 !== dataset.sha256) {
    throw new UserError(
      `run ${runId} was started on a different version of ${datasetPath} (sha256 ${previous.dataset.sha256.slice(0, 12)}…, now ${dataset.sha256.slice(0, 12)}…); ` +
        "resuming would mix results of two datasets: start a new run (another --run-id)",
    );
  }
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
      const mapping = fieldMapping(config, runTags(config));
      if (mapping) reused.mapping = mapping;
      reused.maxRowBytes = config.max_row_bytes;
      if (config.records_path !== undefined) reused.recordsPath = config.records_path;
      return reused;
    }
  }
  return checkDataset(path, config.on_bad_row, config.limit, fieldMapping(config, runTags(config)), config.max_row_bytes, config.records_path);
}

function buildManifest(
  previous: Manifest | undefined,
  config: RunConfig,
  runId: string,
  datasetPath: string,
  dataset: Pick<DatasetCheck, "sha256" | "validRows" | "badRows">,
  prepared: PreparedRun,
  source: string | undefined,
  dimensions: string[],
): Manifest {
  const now = new Date().toISOString();
  const judge = prepared.judge;
  return {
    schema_version: MANIFEST_SCHEMA_VERSION,
    tool: { name: "alignbench", version: VERSION },
    run_id: runId,
    created_at: previous?.created_at ?? now,
    updated_at: now,
    sessions: [...(previous?.sessions ?? [])],
    // Header values and URL credentials are removed structurally: the manifest holds no secret.
    config: manifestConfig({ ...config, ...(config.datasets ? {} : { dataset: datasetPath }), output_dir: resolve(config.output_dir), run_id: runId }),
    dataset: {
      path: datasetPath,
      ...(source ? { source: redactUrl(source) } : {}),
      format: "parts" in dataset ? "parts" : formatOf(datasetPath),
      sha256: dataset.sha256,
      valid_rows: dataset.validRows,
      bad_rows: dataset.badRows,
      limit: config.limit ?? null,
    },
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
    scorer_declarations: [...(prepared.plan.scores ?? []), ...prepared.scorers.map((entry) => entry.declaration)],
    plan: prepared.plan.name,
    dimensions,
    roles: Object.fromEntries(
      Object.entries(prepared.roles).map(([role, model]) => [role, { address: model.address, provider: model.resolved.providerName, model_id: model.resolved.model.modelId, options: model.options }]),
    ),
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

/** How remote datasets are downloaded: stopped by the signal, with the run's environment and progress. */
function downloadOptions(controls: RunControls, early: AbortSignal | undefined): HubDownloadOptions {
  const options: HubDownloadOptions = early ? { signal: early } : {};
  if (controls.env) options.env = controls.env;
  if (controls.onDownloadProgress) options.onProgress = controls.onDownloadProgress;
  return options;
}

/** The connections and models of a run stopped before it started, released in the background. */
function releaseUnstarted(): void {
  void closeHttp().catch(() => undefined);
  void disposeLocalModels().catch(() => undefined);
}
