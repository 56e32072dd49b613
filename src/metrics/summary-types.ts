import type { ScorerDeclaration } from "../scorers/types.js";
import type { Estimate } from "./intervals.js";
import type { CostSummary, UsageEntry } from "./usage.js";
import type { JudgingSummary } from "./judging/judging-summary.js";

// The shape of summary.json (schema_version 2). Everything that reads a summary — terminal, report, viewer,
// paper tables, compare — works from this and from the scorers' declarations it carries: no scorer names.

export const SUMMARY_SCHEMA_VERSION = 2;

/** What a headline reports of its metric: the rate or mean, or a toxicity aggregate of the per-test maxima. */
export const STATISTICS = ["mean", "expected_max_toxicity", "toxicity_probability"] as const;
export type Statistic = (typeof STATISTICS)[number];

/** One metric of one scorer over a group of rows. The interval's type follows the metric's declared kind. */
export interface MetricSummary extends Estimate {
  /** Rates: how many rows scored 1. */
  successes?: number;
  /** Rows whose outcome is bad by the metric's declared direction (rates with a known direction). */
  bad?: number;
  /** A gap between two groups (a suite metric's, e.g. bold_gaps): the group with the higher share, then the lower. */
  between?: [string, string];
  /** `labels` aggregate: how many rows got each label. */
  labels?: Record<string, number>;
  /** The items a suite metric counts here (drift_ars's flipped probes): their ids, at most a cap, and how many there are. */
  items?: { ids: string[]; total: number };
  /** A suite metric's interval by a seeded percentile bootstrap: its seed and number of resamples. */
  bootstrap?: { seed: number; resamples: number };
  /** Why a suite metric's estimate is null, or what its interval left out (DSI when S_in = 0). */
  note?: string;
  /** `distribution` aggregate: the median and the largest value (null with no rows). */
  median?: number | null;
  max?: number | null;
  /** `max_over_samples` aggregate (RealToxicityPrompts): mean over prompts of the highest value among its samples… */
  expected_max_toxicity?: Estimate;
  /** …and the share of prompts with at least one sample ≥ 0.5. */
  toxicity_probability?: Estimate & { successes: number };
  /**
   * The same estimate with an interval that counts a cluster's rows once, when rows share a cluster (test
   * item or `cluster_by`): a rate's is Wilson's on the design-effect-adjusted n (`design_effect`,
   * `n_effective`), a mean's the CR1 t interval on G − 1 degrees of freedom.
   */
  clustered?: Estimate & { clusters: number; design_effect?: number; n_effective?: number };
}

/** A group of rows: the whole run, or the rows with one value of each grouping dimension. */
export interface GroupSummary {
  /** The group's value of each grouping dimension, e.g. { model: "gpt-4.1", persona: "none" }; {} for totals. */
  by: Record<string, string>;
  /** Keys in the group (one row per work item). */
  n: number;
  errors: number;
  mean_latency_ms: number | null;
  /** By scorer name, then by metric name (the declaration's). */
  scores: Record<string, Record<string, MetricSummary>>;
}

/** The run's groups along some dimensions (model; model × persona; category × model; a tag column × model…). */
export interface Breakdown {
  /** Grouping dimensions: row dimensions (model, persona, epoch, strategy…), `category`, or a tag column name. */
  dimensions: string[];
  groups: GroupSummary[];
}

/** A suite's headline number for one model (e.g. XSTest's refusal rate on safe prompts). */
export interface Headline extends Estimate {
  name: string;
  model: string;
  scorer: string;
  metric: string;
  statistic: Statistic;
  where?: Record<string, string>;
  higher_is: "better" | "worse" | null;
  /** The metric's clustered estimate for this model, when its rows share clusters (see MetricSummary). */
  clustered?: MetricSummary["clustered"];
}

export interface RunSummary {
  schema_version: number;
  run_id: string;
  /** What each scorer measures: kinds, ranges, directions, labels. */
  scorers: ScorerDeclaration[];
  /** The run's work-item dimensions, in key order. */
  dimensions: string[];
  totals: GroupSummary;
  headlines: Headline[];
  breakdowns: Breakdown[];
  errors_by_type: Record<string, number>;
  /**
   * Present when rows of the run share a cluster: what they are clustered by ("test", the item, or the
   * `cluster_by` column), how many clusters the totals have, and the dimensions that vary inside one
   * (why rows repeat: epoch, persona, model…).
   */
  clustering?: { by: string; clusters: number; repeats: string[] };
  /** Calls, tokens and latency per model and role, scorers' judge calls included (absent in summaries written before). */
  usage?: UsageEntry[];
  /** What the run's calls cost at its models' prices (absent without prices: a summary rebuilt without a manifest, or before 0.2). */
  cost?: CostSummary;
  /** The judges: outcomes (refusals and unparseable answers apart), repeats, position bias, panels, corrected rates, provenance. */
  judging?: JudgingSummary;
}
