import type { Sample } from "../datasets/sample.js";
import type { Message } from "../providers/messages.js";
import type { PerspectiveScore } from "../providers/perspective.js";
import type { LanguageModel, ModelCall } from "../providers/types.js";
import type { RowScore, TranscriptCall } from "../results/record.js";

// The scorer contract. A scorer is one object: what it measures (its declaration, which every later stage
// reads instead of knowing scorers by name) and how it scores one work item.

/**
 * How a metric's per-row values aggregate, and so which interval it gets:
 * - `rate`: each row is 0 or 1; the proportion with a Wilson interval.
 * - `bounded`: a mean of values in `range`, with a t interval clipped to the range.
 * - `unbounded`: a mean on an open scale (a KL divergence in nats), with a t interval, never clipped.
 */
export type MetricKind = { type: "rate" } | { type: "bounded"; range: [number, number] } | { type: "unbounded"; unit?: string };

/**
 * Which values of a metric are bad. `high`: a high value is a bad outcome (attack success, toxicity);
 * `low`: a low value is (accuracy); `none`: neither. `{ tag, high, low }`: it depends on the item: the
 * item's `tag` column says which (XSTest: a refusal is bad on a `safe` prompt and good on an `unsafe` one).
 */
export type BadDirection = "high" | "low" | "none" | { tag: string; high?: string[]; low?: string[] };

export interface MetricDeclaration {
  /** The metric's key: the primary metric's value is `Score.value`; the others are `Score.metrics[name]`. */
  name: string;
  /** What reports call it, e.g. "attack success rate". */
  label: string;
  kind: MetricKind;
  bad: BadDirection;
  /**
   * Summaries beyond the mean or rate: `labels` counts each label (XSTest's classes); `max_over_samples`
   * adds Expected Maximum Toxicity and toxicity probability over the k samples (epochs) of each prompt;
   * `distribution` adds the median and the maximum (response lengths).
   */
  aggregates?: Array<"labels" | "max_over_samples" | "distribution">;
  /** What the `labels` counts are, in tables ("finish reasons"); "labels" when not given. */
  labels_title?: string;
}

/** Where a result column of the scorer comes from in its score (the runner suite's seed columns). */
export interface ScoreColumn {
  from: "value" | "label" | "raw" | "data" | "model" | "calls" | "usage" | "latency_ms" | `metrics.${string}`;
  /** BOOLEAN turns a 0/1 value into true/false. */
  type?: "BOOLEAN";
}

/** Everything later stages need to know about a scorer's numbers. Plain data: kept in manifest and summary. */
export interface ScorerDeclaration {
  name: string;
  description: string;
  /** The first metric is the scorer's primary one (`Score.value`). */
  metrics: [MetricDeclaration, ...MetricDeclaration[]];
  /**
   * The metric that grades how bad a response is, when the primary metric is a plain yes/no (the verdict
   * judge: its 0/1 attack success is graded by 1 − safety score). Reports' severity reads it.
   */
  severity?: string;
  /** Labels of the primary metric's values, where a result file has no label column (0.1's verdict). */
  value_labels?: Record<string, string>;
  /** Top-level result columns derived from this scorer's score, by column name (`data` objects are flattened too). */
  columns?: Record<string, ScoreColumn>;
  /** For a scorer that asks a judge model: which one, its prompt's hash and its settings (provenance beside its numbers). */
  judge?: JudgeProvenance;
}

/** Which judge produced a scorer's numbers, and how: enough to tell two runs' judges apart. */
export interface JudgeProvenance {
  /** The judge model's address (a panel: `panel(a,b,c)`). */
  model: string;
  /** sha256 (hex) of the prompt template the judge is asked (with the verdict judge's JSON Schema); null when unknown. */
  prompt_sha256: string | null;
  /** The judging settings: generation options, structured output, repairs, repeats, panel. */
  settings: Record<string, unknown>;
}

/**
 * One scorer's result for one work item, as rows store it: `value` is the primary metric (null with an
 * error when it failed), `metrics` the others, `data` structured output (a judge's JSON verdict), and for
 * scorers that call a model, its address, calls, usage and latency.
 */
export type Score = RowScore;

/** What scorers may call: models by role, and the Perspective API. Prepared (rate-limited, retried) by the runner. */
export interface ScorerServices {
  judge?: ModelCall;
  perspective?: (text: string, signal?: AbortSignal) => Promise<PerspectiveScore>;
  /** The model under test, for scorers that read its log-likelihoods (multiple choice). */
  target?: LanguageModel;
  /** Every role's model call, by role name (target, judge, attacker, baseline…). */
  roles?: Record<string, ModelCall>;
}

export interface ScorerContext {
  sample: Sample;
  /** What the model under test was first sent. */
  messages: Message[];
  /** The model under test's (last) response. */
  response: string;
  /** Every call the plan made, in order. */
  transcript?: TranscriptCall[];
  services: ScorerServices;
  signal?: AbortSignal;
  /** Shared by the scorers of one row, so several multiple-choice scorers score the choices once. */
  memo?: Map<string, Promise<unknown>>;
}

/** What a scorer needs from the run: a judge model, the Perspective API, the target's log-likelihoods. */
export type ScorerNeed = "judge" | "perspective" | "loglikelihood" | null;

export interface Scorer {
  name: string;
  description: string;
  needs: ScorerNeed;
  /** The model it calls, when it calls one (recorded on its scores, failed ones too). */
  model?: string;
  declaration: ScorerDeclaration;
  /**
   * Where it applies (config `scorer_where`): only rows whose tags (or category) have these values, e.g. a
   * run's `part`; other rows get no score from it, make no call for it and do not count in its numbers.
   */
  where?: Record<string, string>;
  score(context: ScorerContext): Promise<Score>;
}

/** Whether a scorer applies to a sample: every `where` value matches the sample's tag of that name (`category`: its category). */
export function scorerApplies(scorer: Pick<Scorer, "where">, sample: Pick<Sample, "category" | "metadata">): boolean {
  if (!scorer.where) return true;
  const tags = (sample.metadata?.tags ?? {}) as Record<string, string>;
  return Object.entries(scorer.where).every(([name, value]) => (tags[name] ?? (name === "category" ? sample.category : undefined)) === value);
}

/** A rate metric where 1 is the bad outcome: the common case for safety scorers. */
export function badRate(name: string, label: string, extra: Partial<MetricDeclaration> = {}): MetricDeclaration {
  return { name, label, kind: { type: "rate" }, bad: "high", ...extra };
}
