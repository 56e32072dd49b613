import { extname, resolve } from "node:path";
import { UserError } from "../errors.js";
import { sha256File } from "../io/hash-file.js";
import { NO_PERSONA } from "../personas/persona.js";
import { errorTypeOf } from "../providers/errors.js";
import { closeHttp } from "../providers/http.js";
import { disposeLocalModels } from "../providers/llamacpp/llamacpp-loading.js";
import type { Message } from "../providers/messages.js";
import { MANIFEST_SCHEMA_VERSION, type Manifest, type ManifestSession } from "../results/manifest.js";
import { RESULT_SCHEMA_VERSION, keyOf, type ResultRow, type RowScore } from "../results/record.js";
import { Redactor } from "../results/redactor.js";
import { defaultRunId } from "../results/run-folder.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import { VERSION } from "../version.js";
import type { FailureSummary } from "./failures.js";
import type { RunReporter } from "./reporter.js";
import { existingManifest, RunSession } from "./session.js";
import { claimItems } from "./claim-items.js";

/** One unit of a stage's work: asked once, stored as one durable row keyed by its dimensions. */
export interface StageItem {
  dimensions: Record<string, string | number>;
  test: string;
  model: string;
  epoch?: number;
  category?: string;
  /** What the row shows as sent (the first message of the item's first call). */
  messages: Message[];
  tags?: Record<string, string>;
}

export interface StageRunOptions<T extends StageItem> {
  kind: ManifestSession["kind"];
  /** The score's name in each row (`scores[NAME]`). */
  name: string;
  declaration: ScorerDeclaration;
  /** The file the stage reads: hashed, so a resume against another version of it is refused. */
  input: string;
  /** The stage's settings, kept in manifest.json. */
  config: Record<string, unknown>;
  items: T[];
  dimensions: string[];
  concurrency: number;
  /** Does one item; throwing makes the row an error (retried on resume). */
  work(item: T, signal: AbortSignal | undefined): Promise<RowScore>;
  outputDir?: string;
  runId?: string;
  /** The default run id's prefix (`dataset-classify` → dataset-classify_YYYYmmdd_HHMMss). */
  runIdPrefix: string;
  secrets?: string[];
  groupBy?: string[];
  /** Checks the models before the run folder is touched, only when items are left to do (see StageModels.preflight). */
  preflight?: () => Promise<unknown>;
  reporter?: RunReporter;
  stopSignal?: AbortSignal;
  abortSignal?: AbortSignal;
}

export interface StageOutcome<T extends StageItem> {
  folder: string;
  runId: string;
  interrupted: boolean;
  failures: FailureSummary;
  /** Every item with its stored score, or null when it has none usable (failed, or not reached). */
  results: Array<{ item: T; score: RowScore | null }>;
}

/**
 * A stage that calls models item by item as a resumable run (the pattern of judge-eval): each answer is a
 * durable row of the run folder (partials.jsonl + state), so a stage killed at any point, SIGKILL included,
 * resumes with the same --run-id and asks only for what is missing; results.parquet and summary.json are
 * written as for any run.
 */
export async function runStage<T extends StageItem>(options: StageRunOptions<T>): Promise<StageOutcome<T>> {
  const outputDir = resolve(options.outputDir ?? "results");
  const runId = options.runId ?? `${options.runIdPrefix}_${defaultRunId()}`;
  const input = resolve(options.input);
  const sha256 = await sha256File(input);
  const previous = await existingManifest(outputDir, runId);
  if (previous && previous.dataset.sha256 !== sha256) throw new UserError(`run ${runId} read another version of ${input}: start a new one (another --run-id)`);
  if (previous && previous.plan !== options.name) throw new UserError(`run ${runId} is a ${previous.plan ?? "different"} run, not ${options.name}: choose another --run-id`);
  const finished = previous?.sessions.at(-1)?.items_finished ?? 0;
  if (options.preflight && finished < options.items.length && !options.stopSignal?.aborted) {
    try {
      await options.preflight();
    } catch (error) {
      // No session owns them yet: connections opened and local models loaded for the check are released here.
      await closeHttp();
      await disposeLocalModels();
      throw error;
    }
  }
  const session = await RunSession.open({ outputDir, runId, kind: options.kind, redactor: new Redactor(options.secrets ?? []), onMessage: (message) => options.reporter?.onMessage?.(message) });
  try {
    const now = new Date().toISOString();
    const manifest: Manifest = previous ?? {
      schema_version: MANIFEST_SCHEMA_VERSION,
      tool: { name: "alignbench", version: VERSION },
      run_id: runId,
      created_at: now,
      updated_at: now,
      sessions: [],
      config: { kind: options.name, ...options.config },
      dataset: { path: input, format: extname(input).slice(1), sha256, valid_rows: options.items.length, bad_rows: 0, limit: null },
      models: [],
      personas: [],
      judge: null,
      scorers: [{ name: options.name, description: options.declaration.description }],
      scorer_declarations: [options.declaration],
      plan: options.name,
      dimensions: options.dimensions,
      environment: { node: process.version, platform: `${process.platform}-${process.arch}` },
    };
    await session.begin(manifest);
    const byKey = new Map<string, T>();
    for (const item of options.items) {
      const key = keyOf(item.dimensions, options.dimensions);
      if (byKey.has(key)) throw new UserError(`two items share the key ${key}: ids must be unique in ${input}`);
      byKey.set(key, item);
    }
    const counts = await session.store.counts();
    const interrupted = await session.process(
      claimItems(session.store, byKey),
      options.concurrency,
      async ([key, item, attempt]) => {
        const row = stageRow(runId, key, item, attempt);
        try {
          row.scores = { [options.name]: await options.work(item, options.abortSignal) };
        } catch (error) {
          if (errorTypeOf(error) === "cancelled") return undefined;
          Object.assign(row, { status: "error", error_type: errorTypeOf(error), error: (error as Error).message });
          row.scores = { [options.name]: { value: null, label: null, raw: (error as { raw?: string }).raw ?? null, error: (error as Error).message } };
        }
        row.completed_at = new Date().toISOString();
        return row;
      },
      { total: byKey.size, alreadyDone: counts.ok },
      options,
    );
    const outcome = await session.finalize({ scorers: [options.declaration], dimensions: options.dimensions, groupBy: options.groupBy }, interrupted);
    const stored = new Map<string, RowScore>();
    for await (const row of session.store.latestRows()) {
      const score = row.scores?.[options.name];
      if (row.status === "ok" && score && score.error === null) stored.set(row.key, score);
    }
    return { folder: session.folder, runId, interrupted, failures: outcome.failures, results: [...byKey].map(([key, item]) => ({ item, score: stored.get(key) ?? null })) };
  } finally {
    await session.close();
  }
}

function stageRow(runId: string, key: string, item: StageItem, attempt: number): ResultRow {
  const now = new Date().toISOString();
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: runId,
    key,
    dimensions: item.dimensions,
    test_id: item.test,
    category: item.category ?? "",
    subcategory: "",
    persona_slug: NO_PERSONA,
    model_slug: item.model,
    epoch: item.epoch ?? 1,
    attempt,
    source: "run",
    started_at: now,
    completed_at: now,
    messages: item.messages,
    raw_candidate: null,
    finish_reason: null,
    generation: {},
    usage: null,
    latency_ms: null,
    transcript: [],
    expected_safe_behavior: null,
    attack_notes: null,
    item_judge_prompt: null,
    item_judge_schema: null,
    item_metadata: null,
    tags: item.tags ?? null,
    scores: null,
    status: "ok",
    error: null,
    error_type: null,
  };
}
