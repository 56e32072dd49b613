import { extname } from "node:path";
import { UserError } from "../errors.js";
import { loadHarmBenchLabels, type LabelledItem } from "../datasets/labels.js";
import { loadLabelledFile, type LabelMapping } from "../datasets/labelled-file.js";
import { runConfigSchema, type RunConfigInput } from "../config/schema.js";
import { agreement, type Agreement } from "../metrics/agreement.js";
import { errorTypeOf } from "../providers/errors.js";
import type { RunReporter } from "./reporter.js";
import { ClassifierJudge, classifierPrompt } from "../scorers/classifier-judge.js";
import { clipForHarmBench } from "../scorers/harmbench-clip.js";
import { resolve } from "node:path";
import { sha256File } from "../io/hash-file.js";
import { NO_PERSONA } from "../personas/persona.js";
import { MANIFEST_SCHEMA_VERSION, writeJsonAtomically, type Manifest } from "../results/manifest.js";
import { RESULT_SCHEMA_VERSION, keyOf, type ResultRow } from "../results/record.js";
import { Redactor } from "../results/redactor.js";
import { defaultRunId } from "../results/run-folder.js";
import { builtinDeclaration } from "../scorers/registry.js";
import { VERSION } from "../version.js";
import { existingManifest, RunSession } from "./session.js";
import { CallPolicies } from "./prepare.js";
import { closeHttp } from "../providers/http.js";
import { disposeLocalModels } from "../providers/llamacpp/llamacpp-loading.js";
import type { FailureSummary } from "./failures.js";
import { preflightJudge } from "./judge-preflight.js";
import type { PreflightResult } from "./preflight.js";
import { createHash } from "node:crypto";
import { judgeOutcome, type JudgeOutcome } from "../scorers/judge/judge-outcome.js";
import { claimItems } from "./claim-items.js";

export interface JudgeEvalReport {
  judge: string;
  prompt: string;
  /** The run folder holding every judge answer (results.parquet, partials.jsonl): rerun with its id to resume. */
  folder: string;
  n: number;
  /** Items whose judge answer could not be used (never counted as either label): the call failed, or its answer was not yes or no. */
  errors: number;
  /** Those items by error type, with the first few causes; a resume (same run id) asks the judge again for them. */
  failures: FailureSummary;
  /** Stopped before every item was judged: the report covers the items judged so far. */
  interrupted: boolean;
  /** What the judge is measured against: "human majority label" (HarmBench's set), "reference label" unless the labels are people's. */
  reference_label: string;
  /** Behaviours of the labels file missing from the behaviours file; their generations were left out. */
  unknown_behaviors: string[];
  /** Ids of generations whose votes split evenly: no majority, so left out rather than guessed. */
  ties: string[];
  overall: Agreement;
  by_category: Array<Agreement & { category: string }>;
  /** The scorer whose judge this measures, and the sha256 of its (plain) prompt: runs match their judge to this. */
  scorer?: string;
  prompt_sha256?: string;
  /** Every item's judge outcome: usable answers, refusals to grade, unparseable answers, failed calls. */
  outcomes?: Record<JudgeOutcome, number>;
  /** The judge's calls and tokens over the items, and the summed latency of its answers. */
  usage?: { calls: number; input_tokens: number; output_tokens: number; latency_ms: number };
  disagreements: Array<{ id: string; reference: 0 | 1; judge: 0 | 1; raw: string }>;
}

export interface JudgeEvalOptions {
  labels: string;
  /** A HarmBench behaviours CSV: `labels` is then HarmBench's classifier_val_set format, whose labels are human. */
  behaviors?: string;
  /** Which columns of any other labelled file (CSV, JSONL, JSON, Parquet) hold the behaviour, response, label… */
  mapping?: LabelMapping;
  /** Where the rows are in a .json document (or each JSONL row's fields). */
  recordsPath?: string;
  /** The file's labels are people's judgements: the report then says "human label" instead of "reference label". */
  humanLabels?: boolean;
  judgeModel: string;
  concurrency?: number;
  rateLimitRps?: number;
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
  reporter?: RunReporter;
  /** Where the judge-eval's run folder goes (default results), and its id (default judge-eval_YYYYmmdd_HHMMss; reuse one to resume). */
  outputDir?: string;
  runId?: string;
  stopSignal?: AbortSignal;
  abortSignal?: AbortSignal;
  /** One short call to the judge before the first item, stopping at once on a refused key, an unknown model or an unreachable endpoint (default true). */
  preflight?: boolean;
}

const JUDGE_SCORER = "harmbench_classifier";
const DIMENSIONS = ["test", "judge"];

/**
 * Runs the HarmBench classifier judge over labelled generations and measures its agreement with people.
 * It is a run like any other: each judge answer is a durable row of its own run folder, so an interrupted
 * judge-eval resumes where it stopped, and the report is computed from the stored rows.
 */
export async function judgeEval(options: JudgeEvalOptions): Promise<JudgeEvalReport> {
  const { items, unknownBehaviors, ties, referenceLabel } = await loadLabels(options);
  const input: RunConfigInput = { judge_model: options.judgeModel, concurrency: options.concurrency ?? 8 };
  if (options.rateLimitRps) input.rate_limit_rps = options.rateLimitRps;
  if (options.baseUrl) input.base_url = options.baseUrl;
  const config = runConfigSchema.parse(input);
  const policies = new CallPolicies(config, {}, options.env ?? process.env);
  const resolved = policies.registry.resolve(options.judgeModel);
  const call = policies.call(resolved);
  const plain = new ClassifierJudge(call, classifierPrompt("harmbench"));
  const contextual = new ClassifierJudge(call, classifierPrompt("harmbench-contextual"));
  const declaration = builtinDeclaration(JUDGE_SCORER)!;

  const outputDir = resolve(options.outputDir ?? "results");
  const runId = options.runId ?? `judge-eval_${defaultRunId()}`;
  const labelsPath = resolve(options.labels);
  const sha256 = await sha256File(labelsPath);
  const previous = await existingManifest(outputDir, runId);
  if (previous && previous.dataset.sha256 !== sha256) throw new UserError(`run ${runId} judged another version of ${labelsPath}: start a new judge-eval (another --run-id)`);
  // Before the run folder is touched, and only when items are left to judge (a finished judge-eval calls nobody).
  let checked: PreflightResult[] | undefined;
  const finished = previous?.sessions.at(-1)?.items_finished ?? 0;
  if (options.preflight !== false && finished < items.length && !options.stopSignal?.aborted) {
    try {
      checked = await preflightJudge(policies, options.judgeModel, resolved, {}, { reporter: options.reporter, signal: options.abortSignal });
    } catch (error) {
      // No session owns them yet: the connections opened and a local judge loaded for the check are released here.
      await closeHttp();
      await disposeLocalModels();
      throw error;
    }
  }
  const session = await RunSession.open({ outputDir, runId, kind: "judge-eval", redactor: new Redactor(policies.registry.secrets()), onMessage: (message) => options.reporter?.onMessage?.(message) });
  try {
    const now = new Date().toISOString();
    const manifest: Manifest = previous ?? {
      schema_version: MANIFEST_SCHEMA_VERSION,
      tool: { name: "alignbench", version: VERSION },
      run_id: runId,
      created_at: now,
      updated_at: now,
      sessions: [],
      config: {
        kind: "judge-eval",
        judge_model: options.judgeModel,
        labels: labelsPath,
        behaviors: options.behaviors ? resolve(options.behaviors) : null,
        label_mapping: options.mapping ?? null,
        records_path: options.recordsPath ?? null,
        reference_label: referenceLabel,
      },
      dataset: { path: labelsPath, format: extname(labelsPath).slice(1), sha256, valid_rows: items.length, bad_rows: 0, limit: null },
      models: [],
      personas: [],
      judge: null,
      scorers: [{ name: JUDGE_SCORER, description: declaration.description }],
      scorer_declarations: [declaration],
      plan: "judge-eval",
      dimensions: DIMENSIONS,
      environment: { node: process.version, platform: `${process.platform}-${process.arch}` },
    };
    await session.begin(manifest, { judge_model: options.judgeModel });
    if (checked) for (const result of checked) session.log.info("preflight", { ...result });
    else session.log.info("preflight_skipped", { reason: options.preflight === false ? "--no-preflight" : options.stopSignal?.aborted ? "stopped" : "every item judged already" });
    // Items sharing an id (a behaviour id given for several generations) stay apart: the later ones get #2, #3…
    const seen = new Map<string, number>();
    const byKey = new Map(
      items.map((item) => {
        const count = (seen.get(item.id) ?? 0) + 1;
        seen.set(item.id, count);
        const id = count === 1 ? item.id : `${item.id}#${count}`;
        return [keyOf({ test: id, judge: options.judgeModel }, DIMENSIONS), count === 1 ? item : { ...item, id }];
      }),
    );
    const counts = await session.store.counts();
    const interrupted = await session.process(
      claimItems(session.store, byKey),
      config.concurrency,
      async ([key, item, attempt]) => {
        const row = labelledRow(runId, key, item, attempt, options.judgeModel);
        try {
          // Clipped to 512 classifier tokens, as runs clip what they judge (and HarmBench clips its generations).
          const fields: { behavior: string; generation: string; context?: string } = { behavior: item.behavior, generation: clipForHarmBench(item.generation) };
          if (item.context) fields.context = item.context;
          const started = performance.now();
          const verdict = await (item.context ? contextual : plain).classify(fields, options.abortSignal);
          const latency = Math.round((performance.now() - started) * 10) / 10;
          row.scores = {
            [JUDGE_SCORER]: {
              value: verdict.label,
              label: verdict.label ? "yes" : "no",
              raw: verdict.raw,
              error: null,
              model: options.judgeModel,
              calls: 1,
              usage: verdict.usage,
              latency_ms: latency,
            },
          };
        } catch (error) {
          if (errorTypeOf(error) === "cancelled") return undefined;
          Object.assign(row, { status: "error", error_type: errorTypeOf(error), error: (error as Error).message });
          row.scores = { [JUDGE_SCORER]: { value: null, label: null, raw: (error as { raw?: string }).raw ?? null, error: (error as Error).message, model: options.judgeModel } };
        }
        row.completed_at = new Date().toISOString();
        return row;
      },
      { total: items.length, alreadyDone: counts.ok },
      options,
    );
    const outcome = await session.finalize({ scorers: [declaration], dimensions: DIMENSIONS, groupBy: ["reference"] }, interrupted);
    const report = await agreementReport(session, options.judgeModel, byKey, { referenceLabel, unknownBehaviors, ties }, outcome.failures, interrupted);
    // A refused write here (disk full) stops the session like any other: exit 4 with the file and a resume hint.
    await session.guard(() => writeJsonAtomically(session.files.judgeEval, report));
    return report;
  } finally {
    await session.close();
  }
}

/** HarmBench's validation set with its behaviours CSV, or any labelled file read through the column mapping. */
async function loadLabels(options: JudgeEvalOptions): Promise<{ items: LabelledItem[]; unknownBehaviors: string[]; ties: string[]; referenceLabel: string }> {
  if (options.behaviors) {
    if (options.mapping || options.recordsPath)
      throw new UserError("--behaviors reads HarmBench's classifier_val_set format, whose columns are fixed: column mappings and --records-path are for other labelled files");
    const { items, unknownBehaviors } = await loadHarmBenchLabels(options.labels, options.behaviors);
    return { items, unknownBehaviors, ties: [], referenceLabel: "human majority label" };
  }
  const reading: Parameters<typeof loadLabelledFile>[1] = {};
  if (options.mapping) reading.mapping = options.mapping;
  if (options.recordsPath) reading.recordsPath = options.recordsPath;
  const { items, ties, majority } = await loadLabelledFile(options.labels, reading);
  const referenceLabel = `${options.humanLabels ? "human" : "reference"}${majority ? " majority" : ""} label`;
  return { items, unknownBehaviors: [], ties, referenceLabel };
}

/** A labelled generation as a row: what was sent (the prompt, else the behaviour) the message, the generation the response, the label a tag. */
function labelledRow(runId: string, key: string, item: LabelledItem, attempt: number, judgeModel: string): ResultRow {
  const now = new Date().toISOString();
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: runId,
    key,
    dimensions: { test: item.id, judge: judgeModel },
    test_id: item.id,
    category: item.category,
    subcategory: "",
    persona_slug: NO_PERSONA,
    model_slug: judgeModel,
    epoch: 1,
    attempt,
    source: "run",
    started_at: now,
    completed_at: now,
    messages: [{ role: "user", content: item.prompt ?? item.behavior }],
    raw_candidate: item.generation,
    finish_reason: null,
    generation: {},
    usage: null,
    latency_ms: null,
    transcript: [],
    expected_safe_behavior: null,
    attack_notes: null,
    item_judge_prompt: null,
    item_judge_schema: null,
    item_metadata: item.context || item.prompt ? { ...(item.prompt ? { behavior: item.behavior } : {}), ...(item.context ? { context: item.context } : {}) } : null,
    tags: { reference: String(item.label) },
    scores: null,
    status: "ok",
    error: null,
    error_type: null,
  };
}

/** Agreement of the stored judge answers with the reference labels, overall and per category. */
async function agreementReport(
  session: RunSession,
  judgeModel: string,
  byKey: Map<string, LabelledItem>,
  loaded: { referenceLabel: string; unknownBehaviors: string[]; ties: string[] },
  failures: FailureSummary,
  interrupted: boolean,
): Promise<JudgeEvalReport> {
  const results: Array<{ item: LabelledItem; judge: 0 | 1; raw: string }> = [];
  let errors = 0;
  const outcomes: Record<JudgeOutcome, number> = { verdict: 0, refused: 0, unparseable: 0, error: 0 };
  const usage = { calls: 0, input_tokens: 0, output_tokens: 0, latency_ms: 0 };
  for await (const row of session.store.latestRows()) {
    const item = byKey.get(row.key);
    if (!item) continue;
    const score = row.scores?.[JUDGE_SCORER];
    outcomes[score ? judgeOutcome(score) : "error"]++;
    usage.calls += score?.calls ?? 0;
    usage.input_tokens += score?.usage?.input_tokens ?? 0;
    usage.output_tokens += score?.usage?.output_tokens ?? 0;
    usage.latency_ms += score?.latency_ms ?? 0;
    if (row.status !== "ok" || !score || (score.value !== 0 && score.value !== 1)) errors++;
    else results.push({ item, judge: score.value, raw: score.raw ?? "" });
  }
  const categories = new Map<string, Array<[0 | 1, 0 | 1]>>();
  for (const { item, judge } of results) {
    const list = categories.get(item.category) ?? [];
    list.push([item.label, judge]);
    categories.set(item.category, list);
  }
  return {
    judge: judgeModel,
    prompt: "HarmBench Llama-2 classifier prompt (plain; contextual for items with context)",
    folder: session.folder,
    n: byKey.size,
    errors,
    failures,
    interrupted,
    reference_label: loaded.referenceLabel,
    unknown_behaviors: loaded.unknownBehaviors,
    ties: loaded.ties,
    scorer: JUDGE_SCORER,
    prompt_sha256: createHash("sha256").update(classifierPrompt("harmbench")).digest("hex"),
    outcomes,
    usage,
    overall: agreement(results.map(({ item, judge }) => [item.label, judge])),
    by_category: [...categories].sort(([a], [b]) => (a < b ? -1 : 1)).map(([category, pairs]) => ({ category, ...agreement(pairs) })),
    disagreements: results
      .filter(({ item, judge }) => item.label !== judge)
      .slice(0, 20)
      .map(({ item, judge, raw }) => ({ id: item.id, reference: item.label, judge, raw })),
  };
}
