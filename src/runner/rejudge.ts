import { UserError } from "../errors.js";
import { runConfigSchema } from "../config/schema.js";
import type { LanguageModel, ModelCall } from "../providers/types.js";
import { locateRun } from "../results/load-run.js";
import { readManifest, redactedSettings, type Manifest } from "../results/manifest.js";
import { resolveRunConfig } from "../config/load.js";
import { runDeclarations, runSummaryOptions } from "../metrics/declarations.js";
import type { ResultRow } from "../results/record.js";
import { Redactor } from "../results/redactor.js";
import { scorerApplies, type Scorer, type ScorerDeclaration, type ScorerServices } from "../scorers/types.js";
import { verdictScorer } from "../scorers/verdict.js";
import { applyJudging, describeJudges } from "./judging-setup.js";
import { CallPolicies, chooseScorers, prepareJudge, prepareServices, scopeScorers } from "./prepare.js";
import { sampleOfRow, scoreRow } from "./process-item.js";
import type { RunControls, RunOutcome } from "./run.js";
import { judgeManifestEntry } from "./run.js";
import { refreshJudgePins } from "./run-pins.js";
import { RunSession } from "./session.js";
import { FailureCollector } from "./failures.js";
import { preflightJudge } from "./judge-preflight.js";
import type { PreflightResult } from "./preflight.js";
import { whileOffline } from "./offline-check.js";

export interface RejudgeOptions extends RunControls {
  outputDir?: string;
  /** Another judge than the run's. */
  judgeModel?: string;
  concurrency?: number;
  /**
   * Score into a new, named scoring instead of replacing the run's scores: each scorer's result is kept
   * beside the run's as `NAME/scorer` (e.g. `strict/verdict`), so two judges' results sit side by side.
   */
  scoring?: string;
  /** A run config file whose providers:, base_url and perspective replace the manifest's (which keeps no secrets). */
  settingsFile?: string;
  /** One short call to the judge before the first item, stopping at once on a refused key, an unknown model or an unreachable endpoint (default true). */
  preflight?: boolean;
  /** Refuse every connection but to loopback (and `allowHosts`), as `run --offline` does (default: as the run was). */
  offline?: boolean;
  allowHosts?: string[];
}

const SCORING_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Scores the stored responses of a run again (the latest attempt of every key that has a response),
 * appending the new scores as new attempts; no response is regenerated. Without a scoring name every
 * score is recomputed in place; with one, the new scores are added beside the old, and an interrupted
 * rejudge resumes where it stopped (rows that already hold the named scoring are skipped).
 * The outcome's failures are the items still failed, and, for a named scoring, the items whose named score
 * failed (their own status unchanged): the CLI exits 3 when there are any.
 */
export async function rejudge(reference: string, options: RejudgeOptions = {}): Promise<RunOutcome> {
  const located = locateRun(reference, options.outputDir);
  const manifest = (await readManifest(`${located.outputDir}/${located.runId}/manifest.json`))!;
  const scoring = options.scoring;
  if (scoring !== undefined && !SCORING_NAME.test(scoring)) throw new UserError(`--scoring "${scoring}": use letters, digits, '_' and '-', starting with a letter`);
  // Several judges (a,b,c) are a panel; another judge replaces the run's panel, if it had one.
  const judges = options.judgeModel
    ?.split(",")
    .map((judge) => judge.trim())
    .filter(Boolean);
  const judgeSettings = (manifest.config.judge ?? {}) as Record<string, unknown>;
  const config = runConfigSchema.parse({
    ...manifest.config,
    ...endpointSettings(located.runId, manifest, options.settingsFile),
    ...(judges ? { judge: { ...judgeSettings, panel: judges.length > 1 ? judges : undefined } } : {}),
    judge_model: judges?.[0] ?? manifest.config.judge_model,
    concurrency: options.concurrency ?? manifest.config.concurrency,
    offline: options.offline ?? manifest.config.offline,
    allow_hosts: options.allowHosts ?? manifest.config.allow_hosts,
  });
  const env = options.env ?? process.env;
  // An offline run is rejudged offline too (or any run, with --offline): checked before the first call, guarded at the socket.
  return whileOffline(config, env, async () => {
    const { verdict, scorers } = await chooseScorers(config);
    const policies = new CallPolicies(config, {}, env);
    const judge = config.judge_model ? await prepareJudge(config, config.judge_model, policies, verdict) : undefined;
    if (judge?.verdict) scorers.unshift(verdictScorer(judge.judge, judge.address));
    scopeScorers(config, scorers);
    if (judge) for (const entry of scorers) if (entry.needs === "judge") entry.model ??= judge.address;
    // Repeats and panels as the run (or this rejudge) asks, and each judge scorer's provenance (judging-setup.ts).
    if (judge) await applyJudging(config, scorers, judge, (address) => prepareJudge(config, address, policies, judge.verdict));
    if (judge) await describeJudges(config, scorers, judge);
    if (scorers.length === 0) throw new UserError(`run ${located.runId} has no judge and no scorers: pass --judge-model`);
    const { services, secrets } = prepareServices(config, scorers, judge, {}, env);
    const rename = (name: string) => (scoring === undefined ? name : `${scoring}/${name}`);
    if (scoring !== undefined) {
      const taken = runDeclarations(manifest).map((declaration) => declaration.name);
      if (taken.includes(rename(scorers[0]!.name)) && !manifest.sessions.some((session) => session.scoring === scoring))
        throw new UserError(`scoring "${scoring}" would replace scores the run already has`);
    }
    const redactor = new Redactor([...policies.registry.secrets(), ...secrets]);
    const session = await RunSession.open({ outputDir: located.outputDir, runId: located.runId, kind: "rejudge", redactor, onMessage: (message) => options.reporter?.onMessage?.(message) });
    try {
      // Only the rows stored now are work: the attempts this rejudge appends must not be read back.
      const snapshot = await session.store.snapshot();
      const done = (row: ResultRow) =>
        scoring !== undefined &&
        scorers.every((entry) => {
          if (!scorerApplies(entry, sampleOfRow(row))) return true;
          const score = row.scores?.[rename(entry.name)];
          return score !== undefined && score.error === null;
        });
      async function* stored(): AsyncGenerator<ResultRow> {
        for await (const row of session.store.latestRows(snapshot)) if (row.raw_candidate !== null && !done(row)) yield row;
      }
      // Under the lock but before the manifest or any row is written; only when there is something to judge
      // (and no stop was asked for already).
      let checked: PreflightResult[] | undefined;
      if (judge && options.preflight !== false && !options.stopSignal?.aborted && (await hasAny(stored())))
        checked = await preflightJudge(policies, judge.address, judge.resolved, config.judge.options, { reporter: options.reporter, signal: options.abortSignal });
      addDeclarations(manifest, scorers, rename, scoring !== undefined);
      if (judge && scoring === undefined) manifest.judge = judgeManifestEntry(config, judge);
      refreshJudgePins(manifest);
      await session.begin(manifest, { judge_model: judge?.address ?? null, ...(scoring !== undefined ? { scoring } : {}) });
      session.log.info("rejudge_start", { run_id: located.runId, judge_model: judge?.address ?? null, scorers: scorers.map((entry) => rename(entry.name)), scoring: scoring ?? null });
      if (checked) for (const result of checked) session.log.info("preflight", { ...result });
      else session.log.info("preflight_skipped", { reason: !judge ? "no judge" : options.preflight === false ? "--no-preflight" : options.stopSignal?.aborted ? "stopped" : "nothing to judge" });
      // The models under test, for scorers that read their log-likelihoods or ask them (a preference judge
      // asks the model itself, as services.roles.target); resolved once each, and only when first asked.
      const targets = new Map<string, { call: ModelCall; scoring: LanguageModel }>();
      const targetModel = (address: string) => {
        let model = targets.get(address);
        if (!model) targets.set(address, (model = policies.guarded(policies.registry.resolve(address))));
        return model;
      };
      const needsTarget = scorers.some((entry) => entry.needs === "loglikelihood");
      const servicesFor = (row: ResultRow): ScorerServices => {
        let resolved: { call: ModelCall; scoring: LanguageModel } | undefined;
        const target = () => (resolved ??= targetModel(row.model_slug));
        const roles = { ...services.roles };
        Object.defineProperty(roles, "target", { get: () => target().call, enumerable: true, configurable: true });
        return { ...services, roles, ...(needsTarget ? { target: target().scoring } : {}) };
      };
      // A named scoring's failed scores leave their items' status as it was: they are counted here instead.
      const scoringFailures = new FailureCollector();
      const counts = await session.store.counts();
      const interrupted = await session.process(
        stored(),
        config.concurrency,
        async (previous) => {
          // A plain rejudge recomputes every score; a named scoring keeps the run's and adds its own.
          const row: ResultRow = { ...previous, attempt: previous.attempt + 1, source: "rejudge", started_at: new Date().toISOString() };
          if (scoring === undefined) {
            // The scores this rejudge recomputes are dropped; others (a named scoring, a plan's own) stay.
            const kept = Object.entries(previous.scores ?? {}).filter(([name]) => !scorers.some((entry) => entry.name === name));
            Object.assign(row, { scores: kept.length > 0 ? Object.fromEntries(kept) : null, status: "ok", error: null, error_type: null });
          }
          const before = { status: row.status, error: row.error, error_type: row.error_type };
          // Scored as a fine item, so the first failing score's type and cause can be read off the row afterwards.
          if (scoring !== undefined) Object.assign(row, { status: "ok", error: null, error_type: null });
          if ((await scoreRow(row, sampleOfRow(row), scorers, servicesFor(row), options.abortSignal, rename)) === "cancelled") return undefined;
          // A failing named scoring does not turn a finished item into a failed one: its score carries the error, and a resume retries it.
          if (scoring !== undefined) {
            // An item failed already is counted by finalize; the cause is redacted as the stored rows are.
            if (row.status === "error" && before.status === "ok") scoringFailures.addFailure(row.key, row.error_type ?? "unknown", redactor.scrub(row.error ?? ""));
            Object.assign(row, before);
          }
          row.completed_at = new Date().toISOString();
          return row;
        },
        { total: counts.ok + counts.error, alreadyDone: 0 },
        options,
      );
      const outcome = await session.finalize(runSummaryOptions(manifest), interrupted);
      scoringFailures.merge(outcome.failures);
      const failures = scoringFailures.build();
      session.log.info("rejudge_end", { ...outcome.counts, failed: failures.total });
      return { ...outcome, failures, runId: located.runId, folder: session.folder, interrupted };
    } finally {
      await session.close();
    }
  });
}

/** Whether `items` yields anything (stops at the first). */
async function hasAny(items: AsyncIterable<unknown>): Promise<boolean> {
  for await (const _ of items) return true;
  return false;
}

/** The manifest learns the declarations of the scorers this rejudge writes (renamed for a named scoring). */
function addDeclarations(manifest: Manifest, scorers: Scorer[], rename: (name: string) => string, named: boolean): void {
  const declarations = runDeclarations(manifest).filter((declaration) => named || !scorers.some((entry) => entry.name === declaration.name));
  for (const entry of scorers) {
    const name = rename(entry.name);
    if (declarations.some((declaration) => declaration.name === name)) continue;
    // The seed result columns belong to the run's own verdict, not to a second scoring beside it.
    const { columns, ...rest } = entry.declaration;
    const declaration: ScorerDeclaration = named ? { ...rest, name } : entry.declaration;
    if (!named && columns) declaration.columns = columns;
    declarations.push(declaration);
  }
  manifest.scorer_declarations = declarations;
  manifest.scorers = declarations.map(({ name, description }) => ({ name, description }));
}

/**
 * The endpoints to call: the manifest's, or a config file's. The manifest keeps header values and URL
 * credentials out (manifestConfig), so a run that had some cannot be called again from the manifest alone.
 */
function endpointSettings(runId: string, manifest: Manifest, settingsFile: string | undefined): Record<string, unknown> {
  if (settingsFile) {
    const given = resolveRunConfig(settingsFile, {});
    return { providers: given.providers, base_url: given.base_url, perspective: given.perspective };
  }
  const missing = redactedSettings(manifest.config);
  if (missing.length > 0)
    throw new UserError(
      `run ${runId} was configured with secrets its manifest does not keep (${missing.join(", ")}): give them again with --config FILE, a config file with the run's providers: (and base_url)`,
    );
  return {};
}
