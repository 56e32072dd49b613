import { setMaxListeners } from "node:events";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { runConfigSchema } from "../config/schema.js";
import type { Message, Sample } from "../datasets/sample.js";
import { closeHttp } from "../providers/http.js";
import { withDuckDb } from "../results/duckdb.js";
import { partialsSource } from "../results/partials-sql.js";
import { readManifest, writeJsonAtomically } from "../results/manifest.js";
import { PartialsWriter } from "../results/partials-writer.js";
import { reconcile } from "../results/reconcile.js";
import { NO_VERDICT, RESULT_SCHEMA_VERSION, type ResultRow } from "../results/record.js";
import { Redactor } from "../results/redactor.js";
import { runFiles } from "../results/run-folder.js";
import { RunLog } from "../results/run-log.js";
import { StateStore } from "../results/state-store.js";
import { runPool } from "./pool.js";
import { CallPolicies, prepareJudge } from "./prepare.js";
import { judgeRow } from "./process-item.js";
import { judgeManifestEntry, type RunControls, type RunOutcome } from "./run.js";
import { finalizeRun } from "./finalize.js";

export interface RejudgeOptions extends RunControls {
  outputDir?: string;
  /** Another judge than the run's. */
  judgeModel?: string;
  concurrency?: number;
}

/** A run id under the output folder, or the path of a run folder. */
export function locateRun(reference: string, outputDir = "results"): { outputDir: string; runId: string } {
  if (existsSync(join(reference, "manifest.json"))) {
    const folder = resolve(reference);
    return { outputDir: resolve(folder, ".."), runId: folder.split(/[\\/]/).pop()! };
  }
  if (existsSync(join(outputDir, reference, "manifest.json"))) return { outputDir: resolve(outputDir), runId: reference };
  throw new UserError(`no run "${reference}": neither ${join(outputDir, reference)} nor ${reference} holds a manifest.json`);
}

const COLUMNS = "key, test_id, category, subcategory, persona_slug, model_slug, epoch, attempt, started_at, messages::VARCHAR AS messages, raw_candidate, finish_reason, generation::VARCHAR AS generation, usage::VARCHAR AS usage, latency_ms, expected_safe_behavior, attack_notes, item_judge_prompt, item_judge_schema::VARCHAR AS item_judge_schema";

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
  if (!config.judge_model) throw new UserError(`run ${located.runId} has no judge: pass --judge-model`);
  const policies = new CallPolicies(config, {}, options.env ?? process.env);
  const judge = await prepareJudge(config, config.judge_model, policies);
  const redactor = new Redactor(policies.registry.secrets());
  const log = new RunLog(files.log, redactor);
  const store = new StateStore(files.state);
  const reporter = options.reporter ?? {};
  const startedAt = new Date().toISOString();
  manifest.sessions.push({ kind: "rejudge", started_at: startedAt, judge_model: judge.address });
  manifest.judge = judgeManifestEntry(config, judge);
  try {
    reconcile(files.partials, store);
    log.info("rejudge_start", { run_id: located.runId, judge_model: judge.address });
    const writer = new PartialsWriter(files.partials, store, redactor);
    const stopped = () => Boolean(options.stopSignal?.aborted || options.abortSignal?.aborted);
    await withDuckDb({ tempDirectory: join(files.folder, ".duckdb-tmp") }, async (connection) => {
      // Materialised first: the rows this rejudge appends must not be read back as work.
      await connection.run(
        `CREATE TEMP TABLE todo AS SELECT ${COLUMNS} FROM ${partialsSource(files.partials)} WHERE key IS NOT NULL
         QUALIFY row_number() OVER (PARTITION BY key ORDER BY attempt DESC) = 1`,
      );
      await connection.run("DELETE FROM todo WHERE raw_candidate IS NULL");
      const total = Number((await connection.runAndReadAll("SELECT count(*)::INTEGER AS n FROM todo")).getRowObjectsJson()[0]?.n ?? 0);
      reporter.onRunStart?.({ runId: located.runId, total, alreadyDone: 0, folder: files.folder });
      const stream = await connection.stream("SELECT * FROM todo ORDER BY key");
      const columns = stream.deduplicatedColumnNames();
      const { JsonDuckDBValueConverter } = await import("@duckdb/node-api");
      async function* rows(): AsyncGenerator<Record<string, unknown>> {
        for (;;) {
          const chunk = await stream.fetchChunk();
          if (!chunk || chunk.rowCount === 0) return;
          for (const values of chunk.convertRows(JsonDuckDBValueConverter)) {
            const row: Record<string, unknown> = {};
            columns.forEach((column, index) => (row[column] = values[index]));
            yield row;
          }
        }
      }
      try {
        await runPool(rows(), config.concurrency, async (stored) => {
          const row = rowFromStored(stored, manifest.run_id, store.lookup(String(stored.key))?.attempts ?? Number(stored.attempt));
          const outcome = await judgeRow(row, { sample: sampleOf(row) }, judge, options.abortSignal);
          if (outcome === "cancelled") return;
          row.completed_at = new Date().toISOString();
          await writer.append(row);
          reporter.onItemEnd?.({ ok: row.status === "ok", errorType: row.error_type });
        }, stopped);
      } finally {
        await writer.close();
        reporter.onRunEnd?.({ interrupted: stopped() });
      }
    });
    const outcome = await finalizeRun(files, located.runId, store);
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
  }
}

function parseJson<T>(value: unknown): T | null {
  return typeof value === "string" ? (JSON.parse(value) as T) : null;
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function rowFromStored(stored: Record<string, unknown>, runId: string, attempts: number): ResultRow {
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: runId,
    key: String(stored.key),
    test_id: String(stored.test_id),
    category: String(stored.category ?? ""),
    subcategory: String(stored.subcategory ?? ""),
    persona_slug: String(stored.persona_slug),
    model_slug: String(stored.model_slug),
    epoch: Number(stored.epoch),
    attempt: attempts + 1,
    source: "rejudge",
    started_at: new Date().toISOString(),
    completed_at: "",
    messages: parseJson<Message[]>(stored.messages) ?? [],
    raw_candidate: text(stored.raw_candidate),
    finish_reason: text(stored.finish_reason),
    generation: parseJson(stored.generation) ?? {},
    usage: parseJson(stored.usage),
    latency_ms: stored.latency_ms === null ? null : Number(stored.latency_ms),
    judge_model: null,
    ...NO_VERDICT,
    expected_safe_behavior: text(stored.expected_safe_behavior),
    attack_notes: text(stored.attack_notes),
    item_judge_prompt: text(stored.item_judge_prompt),
    item_judge_schema: parseJson(stored.item_judge_schema),
    status: "ok",
    error: null,
    error_type: null,
  };
}

/** The parts of the original sample a judge reads, rebuilt from the stored row. */
function sampleOf(row: ResultRow): Sample {
  const sample: Sample = { id: row.test_id, category: row.category, subcategory: row.subcategory, conversation: row.messages };
  if (row.expected_safe_behavior !== null) sample.expectedSafeBehavior = row.expected_safe_behavior;
  if (row.attack_notes !== null) sample.attackNotes = row.attack_notes;
  if (row.item_judge_prompt !== null) sample.judgePrompt = row.item_judge_prompt;
  if (row.item_judge_schema !== null) sample.judgeSchema = row.item_judge_schema;
  return sample;
}
