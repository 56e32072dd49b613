import { z } from "zod";
import { fieldPath } from "../datasets/sample.js";
import { InputError, UserError } from "../errors.js";
import { compileCheck } from "./fast-check.js";
import type { Manifest } from "./manifest.js";
import type { ResultRow, TranscriptCall } from "./record.js";
import type { RunSummary } from "../metrics/summary-types.js";

// The shapes of what a run folder holds, checked whenever alignbench reads them back: manifest.json,
// each line of partials.jsonl, summary.json. A field this build does not know is no error and is kept (the
// readers return what was read, not zod's copy), so a field added later within one record version never
// breaks an older reader; a change of meaning bumps the record's schema_version, and a folder with a
// version newer than this build's is refused with a message saying so (`checkSchemaVersion`).

const message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const tokenUsage = z.object({ input_tokens: z.number(), output_tokens: z.number() });
const generationOptions = z.object({
  temperature: z.number().optional(),
  max_tokens: z.number().optional(),
  top_p: z.number().optional(),
  seed: z.number().optional(),
  stop: z.array(z.string()).optional(),
});
const jsonObject = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------------------
// Scorer declarations (kept in the manifest and the summary)

const metricKind = z.union([
  z.object({ type: z.literal("rate") }),
  z.object({ type: z.literal("bounded"), range: z.tuple([z.number(), z.number()]) }),
  z.object({ type: z.literal("unbounded"), unit: z.string().optional() }),
]);
const badDirection = z.union([z.enum(["high", "low", "none"]), z.object({ tag: z.string(), high: z.array(z.string()).optional(), low: z.array(z.string()).optional() })]);
const metricDeclaration = z.object({
  name: z.string(),
  label: z.string(),
  kind: metricKind,
  bad: badDirection,
  aggregates: z.array(z.enum(["labels", "max_over_samples", "distribution"])).optional(),
  labels_title: z.string().optional(),
});
const scoreColumn = z.object({
  from: z.union([z.enum(["value", "label", "raw", "data", "model", "calls", "usage", "latency_ms"]), z.templateLiteral(["metrics.", z.string()])]),
  type: z.literal("BOOLEAN").optional(),
});
export const scorerDeclarationSchema = z.object({
  name: z.string(),
  description: z.string(),
  metrics: z.tuple([metricDeclaration], metricDeclaration),
  columns: z.record(z.string(), scoreColumn).optional(),
  judge: z.object({ model: z.string(), prompt_sha256: z.string().nullable(), settings: z.record(z.string(), z.unknown()) }).optional(),
});

// ---------------------------------------------------------------------------------------------------------
// manifest.json (format 1: alignbench 0.1; format 2 added scorer_declarations, plan, dimensions, roles, and
// the rejudge and judge-eval session kinds; both read with this one schema, the newer fields optional)

const modelEntry = {
  address: z.string(),
  provider: z.string(),
  model_id: z.string(),
  options: generationOptions,
};

export const manifestSchema = z.object({
  schema_version: z.number().int().min(1),
  tool: z.object({ name: z.literal("alignbench"), version: z.string() }),
  run_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  sessions: z.array(
    z.object({
      kind: z.enum(["run", "rejudge", "judge-eval", "misalign-eval", "dataset"]),
      scoring: z.string().optional(),
      started_at: z.string(),
      ended_at: z.string().optional(),
      interrupted: z.boolean().optional(),
      items_finished: z.number().optional(),
      judge_model: z.string().nullable().optional(),
    }),
  ),
  config: jsonObject,
  dataset: z.object({
    path: z.string(),
    source: z.string().optional(),
    format: z.string(),
    sha256: z.string(),
    valid_rows: z.number(),
    bad_rows: z.number(),
    limit: z.number().nullable(),
    parts: z
      .array(
        z.object({
          name: z.string(),
          path: z.string(),
          source: z.string().optional(),
          format: z.string(),
          sha256: z.string(),
          valid_rows: z.number(),
          bad_rows: z.number(),
          limit: z.number().nullable(),
        }),
      )
      .optional(),
  }),
  models: z.array(z.object({ ...modelEntry, max_concurrency: z.number().nullable(), rate_limit_rps: z.number().nullable() })),
  personas: z.array(
    z.object({
      slug: z.string(),
      title: z.string(),
      intent: z.string(),
      kind: z.enum(["benign", "adversarial"]),
      system_prompt: z.string(),
      risk_notes: z.string(),
    }),
  ),
  judge: z
    .object({
      model: z.string(),
      prompt: z.string(),
      prompt_template: z.string(),
      schema: jsonObject,
      structured_output: z.string(),
      repair_attempts: z.number(),
      options: generationOptions,
    })
    .nullable(),
  scorers: z.array(z.object({ name: z.string(), description: z.string() })).optional(),
  scorer_declarations: z.array(scorerDeclarationSchema).optional(),
  plan: z.string().optional(),
  dimensions: z.array(z.string()).optional(),
  items_per_test: z.number().optional(),
  roles: z.record(z.string(), z.object(modelEntry)).optional(),
  environment: z.object({ node: z.string(), platform: z.string() }),
});

// ---------------------------------------------------------------------------------------------------------
// partials.jsonl rows. Every top-level field is checked (presence, type, enum values); nested objects are
// checked to the depth the interfaces describe (messages, transcript calls, scores and their metrics,
// usage, generation options); free-form JSON (a score's `data`, item metadata, judge schemas) is checked
// to be an object. Rows are read in bulk, so they are checked with a check compiled from these schemas
// (fast-check.ts), and zod parses only a row that fails, to say where.

const nullableString = z.string().nullable();
const transcriptCall = z.object({
  role: z.string(),
  model: z.string(),
  // Left out in storage when they are the row's own (compactRow); put back by expandRow.
  messages: z.array(message).optional(),
  response: nullableString.optional(),
  usage: tokenUsage.nullable().optional(),
  latency_ms: z.number().nullable().optional(),
  finish_reason: nullableString.optional(),
  error: nullableString.optional(),
  details: jsonObject.optional(),
});
/** A scorer's call (a judge's): stored whole, the messages exactly as sent. */
const scorerCall = z.object({
  role: z.string(),
  model: z.string(),
  messages: z.array(message),
  response: nullableString,
  usage: tokenUsage.nullable(),
  latency_ms: z.number().nullable(),
  finish_reason: nullableString,
  error: nullableString.optional(),
});
const judging = z.object({
  judge: z.string().optional(),
  value: z.number().nullable(),
  label: nullableString,
  metrics: z.record(z.string(), z.number().nullable()).optional(),
  outcome: z.enum(["verdict", "refused", "unparseable", "error"]),
  error: nullableString.optional(),
});
const rowScore = z.object({
  value: z.number().nullable(),
  label: nullableString,
  raw: nullableString,
  error: nullableString,
  metrics: z.record(z.string(), z.number().nullable()).optional(),
  data: jsonObject.nullable().optional(),
  model: z.string().optional(),
  calls: z.number().optional(),
  usage: tokenUsage.nullable().optional(),
  latency_ms: z.number().nullable().optional(),
  transcript: z.array(scorerCall).optional(),
  repeats: z.array(judging).optional(),
  panel: z.array(judging).optional(),
});

/** The fields version 1 and version 2 rows share. */
const rowCommon = {
  schema_version: z.number().int().min(1),
  run_id: z.string(),
  key: z.string(),
  test_id: z.string(),
  category: z.string(),
  subcategory: z.string(),
  persona_slug: z.string(),
  model_slug: z.string(),
  epoch: z.number(),
  attempt: z.number().int().min(1),
  source: z.enum(["run", "rejudge"]),
  started_at: z.string(),
  completed_at: z.string(),
  messages: z.array(message),
  raw_candidate: nullableString,
  finish_reason: nullableString,
  generation: generationOptions,
  usage: tokenUsage.nullable(),
  latency_ms: z.number().nullable(),
  expected_safe_behavior: nullableString,
  attack_notes: nullableString,
  item_judge_prompt: nullableString,
  item_judge_schema: jsonObject.nullable(),
  item_metadata: jsonObject.nullable(),
  tags: z.record(z.string(), z.string()).nullable(),
  scores: z.record(z.string(), rowScore).nullable(),
  status: z.enum(["ok", "error"]),
  error: nullableString,
  error_type: nullableString,
};

/** A row as alignbench 0.1 wrote it: the verdict judge's fields at the top level, no dimensions or transcript. */
export const resultRowV1Schema = z.object({
  ...rowCommon,
  judge_model: nullableString,
  judge_raw: nullableString,
  judge_json: jsonObject.nullable(),
  judge_calls: z.number(),
  judge_usage: tokenUsage.nullable(),
  judge_latency_ms: z.number().nullable(),
  attack_success: z.boolean().nullable(),
  overall: z.number().nullable(),
  safety_score: z.number().nullable(),
});

/** A row of the current format (2). */
export const resultRowSchema = z.object({
  ...rowCommon,
  // Stored without the dimensions the row's own fields give (test, persona, model, epoch); see compactRow.
  dimensions: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  transcript: z.array(transcriptCall),
});

// ---------------------------------------------------------------------------------------------------------
// summary.json (format 2; a format 1 summary, from 0.1, is rebuilt from the rows by its readers)

const estimate = {
  estimate: z.number().nullable(),
  stderr: z.number().nullable(),
  ci95: z.tuple([z.number(), z.number()]).nullable(),
  n: z.number(),
};
const clusteredEstimate = z.object({ ...estimate, clusters: z.number(), design_effect: z.number().optional(), n_effective: z.number().optional() });
const metricSummary = z.object({
  ...estimate,
  successes: z.number().optional(),
  bad: z.number().optional(),
  labels: z.record(z.string(), z.number()).optional(),
  between: z.tuple([z.string(), z.string()]).optional(),
  median: z.number().nullable().optional(),
  max: z.number().nullable().optional(),
  expected_max_toxicity: z.object(estimate).optional(),
  toxicity_probability: z.object({ ...estimate, successes: z.number() }).optional(),
  clustered: clusteredEstimate.optional(),
});
const groupSummary = z.object({
  by: z.record(z.string(), z.string()),
  n: z.number(),
  errors: z.number(),
  mean_latency_ms: z.number().nullable(),
  scores: z.record(z.string(), z.record(z.string(), metricSummary)),
});

export const runSummarySchema = z.object({
  schema_version: z.number().int().min(1),
  run_id: z.string(),
  scorers: z.array(scorerDeclarationSchema),
  dimensions: z.array(z.string()),
  totals: groupSummary,
  headlines: z.array(
    z.object({
      ...estimate,
      name: z.string(),
      model: z.string(),
      scorer: z.string(),
      metric: z.string(),
      statistic: z.enum(["mean", "expected_max_toxicity", "toxicity_probability"]),
      where: z.record(z.string(), z.string()).optional(),
      higher_is: z.enum(["better", "worse"]).nullable(),
      clustered: clusteredEstimate.optional(),
    }),
  ),
  breakdowns: z.array(z.object({ dimensions: z.array(z.string()), groups: z.array(groupSummary) })),
  errors_by_type: z.record(z.string(), z.number()),
  clustering: z.object({ by: z.string(), clusters: z.number(), repeats: z.array(z.string()) }).optional(),
  usage: z
    .array(
      z.object({
        model: z.string(),
        role: z.string(),
        scorer: nullableString,
        calls: z.number(),
        input_tokens: z.number(),
        output_tokens: z.number(),
        latency_ms: z.object({ mean: z.number().nullable(), p50: z.number().nullable(), p95: z.number().nullable() }),
      }),
    )
    .optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Checking what was read

/**
 * Refuses a record written by a newer alignbench (its format may mean something this build cannot read).
 * `where` names the file (and line); records with no readable version are left to the schema to reject.
 */
export function checkSchemaVersion(where: string, value: unknown, newest: number): void {
  const version = (value as { schema_version?: unknown } | null)?.schema_version;
  if (typeof version === "number" && version > newest) {
    throw new UserError(`${where} was written by a newer alignbench (record format ${version}; this version reads up to ${newest}): upgrade alignbench to read it`);
  }
}

/** The first problem zod found, as `file[:line]: field: problem`. */
export function recordError(file: string, line: number | undefined, error: z.ZodError): InputError {
  const issue = error.issues[0]!;
  return new InputError(file, line, fieldPath(issue.path), issue.message);
}

/** Parses JSON text, or says where it is not JSON. */
export function parseJson(file: string, line: number | undefined, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(file, line, undefined, `not valid JSON (${(error as Error).message}); the file is damaged`);
  }
}

// Type-level checks: what the schemas accept is what the interfaces describe. A field added to an interface
// and not to its schema (or typed differently) fails the build here.
type Assignable<From extends To, To> = From;
export type ManifestFromSchema = Assignable<z.output<typeof manifestSchema>, Manifest>;
export type RunSummaryFromSchema = Assignable<z.output<typeof runSummarySchema>, RunSummary>;
type StoredRow = z.output<typeof resultRowSchema>;
type ExpandedCall = StoredRow["transcript"][number] & Pick<TranscriptCall, "messages" | "response" | "usage" | "latency_ms" | "finish_reason">;
export type ResultRowFromSchema = Assignable<StoredRow & { transcript: ExpandedCall[]; dimensions: ResultRow["dimensions"] }, ResultRow>;

/** A manifest.json's content, checked: its version first, then its shape. */
export function validateManifest(file: string, value: unknown, newest: number): Manifest {
  checkSchemaVersion(file, value, newest);
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) throw recordError(file, undefined, parsed.error);
  return value as Manifest;
}

const isRow = compileCheck(resultRowSchema);
const isRowV1 = compileCheck(resultRowV1Schema);

/**
 * A partials.jsonl row, checked as stored (before a version 1 row is upgraded and a compacted transcript
 * expanded): its version first, then the shape of its version. Returns the parsed object itself (zod's
 * copy is dropped), so a field this build does not know is kept.
 */
export function validateRow(file: string, line: number | undefined, value: unknown, newest: number): ResultRow {
  checkSchemaVersion(line === undefined ? file : `${file}:${line}`, value, newest);
  const version = (value as { schema_version?: unknown } | null)?.schema_version;
  if (version === 1 ? isRowV1(value) : isRow(value)) return value as ResultRow;
  const parsed = (version === 1 ? resultRowV1Schema : resultRowSchema).safeParse(value);
  if (!parsed.success) throw recordError(file, line, parsed.error);
  return value as ResultRow;
}

/** A summary.json's content, checked; undefined for a summary of an older format (0.1's), which readers rebuild from the rows. */
export function validateSummary(file: string, value: unknown, newest: number): RunSummary | undefined {
  checkSchemaVersion(file, value, newest);
  const version = (value as { schema_version?: unknown } | null)?.schema_version;
  if (typeof version === "number" && version < newest) return undefined;
  const parsed = runSummarySchema.safeParse(value);
  if (!parsed.success) throw recordError(file, undefined, parsed.error);
  return value as RunSummary;
}
