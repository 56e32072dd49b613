import { setMaxListeners } from "node:events";
import { statSync } from "node:fs";
import { UserError } from "../errors.js";
import { runConfigSchema } from "../config/schema.js";
import type { Sample } from "../datasets/sample.js";
import { closeHttp } from "../providers/http.js";
import { disposeLocalModels } from "../providers/llamacpp/llamacpp-model.js";
import { latestRows } from "../results/partials-reader.js";
import { locateRun } from "../results/load-run.js";
import { readManifest, writeJsonAtomically } from "../results/manifest.js";
import { PartialsWriter } from "../results/partials-writer.js";
import { reconcile } from "../results/reconcile.js";
import { NO_VERDICT, type ResultRow } from "../results/record.js";
import { Redactor } from "../results/redactor.js";
import { runFiles } from "../results/run-folder.js";
import { RunLog } from "../results/run-log.js";
import { StateStore } from "../results/state-store.js";
import { runPool } from "./pool.js";
import type { LanguageModel } from "../providers/types.js";
import { CallPolicies, chooseScorers, prepareJudge, prepareServices } from "./prepare.js";
import { judgeRow, scoreRow } from "./process-item.js";
import { judgeManifestEntry, summaryOptions, type RunControls, type RunOutcome } from "./run.js";
import { finalizeRun } from "./finalize.js";

export interface RejudgeOptions extends RunControls {
  outputDir?: string;
  /** Another judge than the run's. */
  judgeModel?: string;
  concurrency?: number;
}

/**
 * Scores the stored responses of a run again (the latest attempt of every key that has a response),
 * appending the new verdicts as new attempts; no response is regenerated.
 */
export async function rejudge(reference: string, options: RejudgeOptions = {}): Promise<RunOutcome> {
  if (options.abortSignal) setMaxListeners(0, options.abortSignal);
  const located = locateRun(reference, options.outputDir);
  const files = runFiles(located.outputDir, located.runId);
  const manifest = (await readManifest(files.manifest))!;
  const config = runConfigSchema.parse({ ...manifest.config, judge_model: options.judgeModel ?? manifest.config.judge_model, concurrency: options.concurrency ?? manifest.config.concurrency });
  const { verdict, scorers } = await chooseScorers(config);
  if (!verdict && scorers.length === 0) throw new UserError(`run ${located.runId} has no judge and no scorers: pass --judge-model`);
  const env = options.env ?? process.env;
  const policies = new CallPolicies(config, {}, env);
  const judge = config.judge_model ? await prepareJudge(config, config.judge_model, policies, verdict) : undefined;
  const { services, secrets } = prepareServices(config, scorers, judge, {}, env);
  const redactor = new Redactor([...policies.registry.secrets(), ...secrets]);
  const log = new RunLog(files.log, redactor);
  const store = new StateStore(files.state);
  const reporter = options.reporter ?? {};
  const startedAt = new Date().toISOString();
  manifest.sessions.push({ kind: "rejudge", started_at: startedAt, judge_model: judge?.address ?? null });
  if (judge) manifest.judge = judgeManifestEntry(config, judge);
  try {
    reconcile(files.partials, store);
    log.info("rejudge_start", { run_id: located.runId, judge_model: judge?.address ?? null, scorers: scorers.map((entry) => entry.name) });
    const writer = new PartialsWriter(files.partials, store, redactor);
    // The models under test, for scorers that read their log-likelihoods; resolved once each.
    const targets = new Map<string, LanguageModel>();
    const targetModel = (address: string): LanguageModel => {
      let model = targets.get(address);
      if (!model) targets.set(address, (model = policies.guarded(policies.registry.resolve(address)).scoring));
      return model;
    };
    const stopped = () => Boolean(options.stopSignal?.aborted || options.abortSignal?.aborted);
    // Only the rows on disk now are work: the new attempts this rejudge appends must not be read back.
    const endOffset = statSync(files.partials).size;
    async function* stored(): AsyncGenerator<ResultRow> {
      for await (const row of latestRows(files.partials, store, endOffset)) if (row.raw_candidate !== null) yield row;
    }
    const counts = store.counts();
    reporter.onRunStart?.({ runId: located.runId, total: counts.ok + counts.error, alreadyDone: 0, folder: files.folder });
    try {
      await runPool(stored(), config.concurrency, async (previous) => {
        // Every score is recomputed: none of the previous attempt's verdicts or scores is carried over.
        const row: ResultRow = { ...previous, ...NO_VERDICT, scores: null, attempt: previous.attempt + 1, source: "rejudge", started_at: new Date().toISOString(), status: "ok", error: null, error_type: null };
        const sample = sampleOf(row);
        if (judge?.verdict && (await judgeRow(row, { sample }, judge, options.abortSignal)) === "cancelled") return;
        const target = scorers.some((entry) => entry.needs === "loglikelihood") ? targetModel(row.model_slug) : undefined;
        if (scorers.length > 0 && (await scoreRow(row, sample, scorers, target ? { ...services, target } : services, options.abortSignal)) === "cancelled") return;
        row.completed_at = new Date().toISOString();
        await writer.append(row);
        reporter.onItemEnd?.({ ok: row.status === "ok", errorType: row.error_type });
      }, stopped);
    } finally {
      await writer.close();
      reporter.onRunEnd?.({ interrupted: stopped() });
    }
    const outcome = await finalizeRun(files, located.runId, store, summaryOptions(config));
    const session = manifest.sessions[manifest.sessions.length - 1]!;
    session.ended_at = new Date().toISOString();
    session.interrupted = stopped();
    manifest.updated_at = session.ended_at;
    await writeJsonAtomically(files.manifest, manifest);
    log.info("rejudge_end", { ...outcome.counts });
    return { ...outcome, runId: located.runId, folder: files.folder, interrupted: stopped() };
  } finally {
    store.close();
    log.close();
    await closeHttp();
    await disposeLocalModels();
  }
}

/** The parts of the original sample a judge reads, rebuilt from the stored row. */
function sampleOf(row: ResultRow): Sample {
  const sample: Sample = { id: row.test_id, category: row.category, subcategory: row.subcategory, conversation: row.messages };
  if (row.expected_safe_behavior !== null) sample.expectedSafeBehavior = row.expected_safe_behavior;
  if (row.attack_notes !== null) sample.attackNotes = row.attack_notes;
  if (row.item_judge_prompt !== null) sample.judgePrompt = row.item_judge_prompt;
  if (row.item_judge_schema !== null) sample.judgeSchema = row.item_judge_schema;
  if (row.item_metadata || row.tags) sample.metadata = { ...(row.item_metadata ?? {}), ...(row.tags ? { tags: row.tags } : {}) };
  return sample;
}
