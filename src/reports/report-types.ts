import type { RunComparison } from "../metrics/compare-runs.js";
import type { Estimate } from "../metrics/intervals.js";
import type { MetricRef, Outcome } from "../metrics/outcome.js";
import type { RunSummary } from "../metrics/summary-types.js";
import type { Manifest } from "../results/manifest.js";
import type { PinComparison } from "../results/pins.js";
import type { UsageEntry } from "../metrics/usage.js";

/** One scorer's result on an item, as a report shows it. */
export interface ReportScore {
  value: number | null;
  label: string | null;
  metrics?: Record<string, number | null>;
  error: string | null;
  /** The scorer's raw output (a judge's answer), clipped. */
  raw: string | null;
  /** The model that scored, for scorers that call one. */
  model?: string;
  /** The scorer's model calls (a judge's prompt as sent, its answers), texts clipped; worst and failed items only. */
  transcript?: ReportCall[];
}

/** One model call of an item's plan, as a report shows it (texts clipped). */
export interface ReportCall {
  role: string;
  model: string;
  messages: Array<{ role: string; content: string }>;
  response: string | null;
  finish_reason: string | null;
  error: string | null;
}

/** One response as a report shows it. Every string in it is untrusted and must be shown as text. */
export interface ReportItem {
  key: string;
  test_id: string;
  model: string;
  persona: string;
  category: string;
  epoch: number;
  dimensions: Record<string, string | number>;
  tags: Record<string, string> | null;
  status: "ok" | "error";
  prompt: string;
  response: string | null;
  /** The run's primary metric's outcome on this item, by its declared direction (null: not scored). */
  outcome: Outcome | null;
  /** How bad, on [0, 1], by the primary metric's direction and range (null: no direction or no range). */
  severity: number | null;
  scores: Record<string, ReportScore>;
  /** Every call the plan made; null where it is the single call whose prompt and response are shown above. */
  transcript: ReportCall[] | null;
  error: string | null;
}

/** Share of scored responses with severity above the threshold, per group, with a Wilson interval. */
export type SeverityShare = Estimate & { successes: number; group: string; model: string };

/** One model in one role (a scorer's judge calls apart, by scorer): calls, tokens, latency and cost. */
export interface UsageSummary extends UsageEntry {
  /** Only when the model's price was given (`--price MODEL=IN,OUT`, dollars per million tokens). */
  cost_usd: number | null;
}

/** The metric a run is judged by first (its first headline's, else its first directed scorer's primary metric). */
export interface PrimaryMetric extends MetricRef {
  /** The metric's declared label, e.g. "refusal rate (full + partial)". */
  label: string;
}

export interface RunReport {
  manifest: Pick<Manifest, "run_id" | "created_at" | "updated_at" | "tool" | "dataset" | "models" | "roles" | "judge" | "scorers" | "environment" | "offline"> & {
    personas: string[];
    options: Record<string, unknown>;
  };
  /** summary.json (version 2): the scorers' declarations, headlines and breakdowns. */
  summary: RunSummary;
  /** The metric the charts show; null when the run has no scorers. */
  primary: PrimaryMetric | null;
  severity: {
    threshold: number;
    /** Per model: counts of severities in SEVERITY_BINS equal bins over [0, 1]. */
    histogram: Array<{ model: string; counts: number[] }>;
    above_by_category: SeverityShare[];
    above_by_persona: SeverityShare[];
    /** Items whose primary outcome is bad by its declared direction, the worst first. */
    worst: ReportItem[];
  };
  usage: UsageSummary[];
  /** A sample of the items (all of them when there are few), and how many there are in all. */
  items: ReportItem[];
  items_total: number;
  errors: ReportItem[];
  /** A drift run's (role `base`) findings beside its curve; absent for other runs. */
  drift?: DriftFindingsReport;
}

/** One of the positions with the largest KL(P_ft ‖ P_base): its token and the text before it (untrusted, clipped). */
export interface DriftTopKl {
  id: string;
  part: string;
  position: number | null;
  token: string;
  kl: number;
  context: string;
}

/** A probe whose alignment verdict differs between the base and the checkpoint (1 aligned, 0 not). */
export interface DriftFlip {
  id: string;
  /** The probe's first words (untrusted, clipped). */
  prompt: string;
  aligned_base: number | null;
  aligned_target: number | null;
}

/** drift-findings.ts: per checkpoint, the FL distribution over in-domain texts, top-KL tokens and flipped probes. */
export interface DriftFindingsReport {
  /** The part whose texts the FL histogram counts. */
  part: string;
  /** The histogram's bin edges in nats, shared by every checkpoint. */
  fl_edges: number[];
  checkpoints: Array<{
    model: string;
    fl_counts: number[];
    fl_texts: number;
    /** In-domain texts without an FL (failed rows). */
    fl_missing: number;
    /** The largest first. */
    top_kl: DriftTopKl[];
    /** The first listed by id; the totals count every flip. */
    flipped: { lost: DriftFlip[]; gained: DriftFlip[]; lost_total: number; gained_total: number };
  }>;
}

export interface ReportData {
  generated_at: string;
  tool_version: string;
  runs: RunReport[];
  /** With two runs: B against A, paired on the items both hold. */
  comparison: (RunComparison & { a: string; b: string }) | null;
  comparison_error: string | null;
  /** With two runs: every pinned setting (results/pins.ts) that differs between them. */
  settings?: PinComparison | null;
}

export interface ReportOptions {
  severityThreshold?: number;
  /** Most items listed (sampled when there are more); metrics always use every row. */
  maxItems?: number;
  worst?: number;
  prices?: Record<string, { input: number; output: number }>;
}
