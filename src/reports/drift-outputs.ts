import { stringify } from "yaml";
import type { Headline, MetricSummary, RunSummary } from "../metrics/summary-types.js";
import { breakdownOf, formatMetric } from "./metric-kind.js";
import { renderTable } from "./terminal-summary.js";

// What a drift run leaves besides the run folder: AlignBench's benchmark_results.yaml (its three keys, as its
// scripts/run_alignbench.py writes them), a fuller drift.json, and the drift curve on the terminal. All read
// the run's summary: the suite metrics' values sit in the per-model groups under the metrics' names.

export const FIDELITY_METRIC = "drift_fidelity_dsi";
export const ARS_METRIC = "drift_ars";
/** The DSI's alternative scores (drift --task, --in-domain-prompts with --judge-model): suite metrics of their own. */
export const TASK_DSI_METRIC = "drift_task_dsi";
export const JUDGE_DSI_METRIC = "drift_judge_dsi";

/** Which score S each DSI uses, in words: the headline's first (AlignBench's key is always the default). */
export const DSI_SCORES: Record<string, string> = {
  [FIDELITY_METRIC]: "greedy next-token accuracy of each model on the in-domain and out-of-domain texts (the default; AlignBench's key)",
  [TASK_DSI_METRIC]: "multiple-choice accuracy of each model on the task's in-domain and out-of-domain items, by log-likelihood (--task)",
  [JUDGE_DSI_METRIC]: "the judge's mean 0–1 grade of each model's answers to the in-domain and out-of-domain prompts (--judge-model with prompt sets)",
};

/** AlignBench-style keys for the alternatives, added after its three only when the run measured them. */
const ALTERNATIVE_KEYS = [
  { key: "Drift Sensitivity Index (DSI), task accuracy", scorer: TASK_DSI_METRIC, metric: "dsi_target" },
  { key: "Drift Sensitivity Index (DSI), judge score", scorer: JUDGE_DSI_METRIC, metric: "dsi_target" },
] as const;

/** AlignBench's keys, in the order its yaml.dump writes them (sorted), with where each value comes from. */
export const ALIGNBENCH_KEYS = [
  { key: "Alignment Robustness Score (ARS)", scorer: ARS_METRIC, metric: "ars" },
  { key: "Drift Sensitivity Index (DSI)", scorer: FIDELITY_METRIC, metric: "dsi_target" },
  { key: "Fidelity Loss (FL)", scorer: FIDELITY_METRIC, metric: "fl" },
] as const;

/** The numbers the curve shows per checkpoint, in this order. */
const CURVE = [
  { label: "FL (nats/token)", scorer: FIDELITY_METRIC, metric: "fl" },
  { label: "DSI fine-tuned", scorer: FIDELITY_METRIC, metric: "dsi_target" },
  { label: "DSI base", scorer: FIDELITY_METRIC, metric: "dsi_base" },
  { label: "DSI change", scorer: FIDELITY_METRIC, metric: "dsi_change" },
  { label: "ARS", scorer: ARS_METRIC, metric: "ars" },
] as const;

/** Columns the curve adds when the run measured the DSI's alternatives. */
const ALTERNATIVE_CURVE = [
  { label: "DSI task", scorer: TASK_DSI_METRIC, metric: "dsi_target" },
  { label: "DSI task change", scorer: TASK_DSI_METRIC, metric: "dsi_change" },
  { label: "DSI judge", scorer: JUDGE_DSI_METRIC, metric: "dsi_target" },
  { label: "DSI judge change", scorer: JUDGE_DSI_METRIC, metric: "dsi_change" },
] as const;

/** One checkpoint's point of the curve: every value of the two drift suite metrics, by metric name. */
export interface DriftPoint {
  model: string;
  /** By suite metric, then metric name (absent: the metric reported nothing for this checkpoint). */
  metrics: Record<string, Record<string, MetricSummary>>;
  headlines: Headline[];
}

/** The drift curve: one point per checkpoint, in the order the checkpoints were given (not the summary's). */
export function driftCurve(summary: RunSummary, checkpoints: readonly string[]): DriftPoint[] {
  const groups = breakdownOf(summary, "model")?.groups ?? [];
  return checkpoints.map((model) => {
    const scores = groups.find((group) => group.by.model === model)?.scores ?? {};
    const metrics: DriftPoint["metrics"] = {};
    for (const name of [FIDELITY_METRIC, ARS_METRIC, TASK_DSI_METRIC, JUDGE_DSI_METRIC]) if (scores[name]) metrics[name] = scores[name];
    return { model, metrics, headlines: summary.headlines.filter((headline) => headline.model === model) };
  });
}

function estimateOf(point: DriftPoint, scorer: string, metric: string): MetricSummary | undefined {
  return point.metrics[scorer]?.[metric];
}

/** The alternative DSI scores any checkpoint of the curve has. */
function measuredAlternatives(curve: readonly DriftPoint[]): Set<string> {
  return new Set([TASK_DSI_METRIC, JUDGE_DSI_METRIC].filter((name) => curve.some((point) => point.metrics[name] !== undefined)));
}

/** One checkpoint's AlignBench mapping: the three keys, then any measured alternative DSI, each a plain number (null where the run has none). */
function alignbenchValues(point: DriftPoint, alternatives: Set<string>): Record<string, number | null> {
  const keys = [...ALIGNBENCH_KEYS, ...ALTERNATIVE_KEYS.filter(({ scorer }) => alternatives.has(scorer))];
  return Object.fromEntries(keys.map(({ key, scorer, metric }) => [key, estimateOf(point, scorer, metric)?.estimate ?? null]));
}

/**
 * benchmark_results.yaml: AlignBench's flat mapping of its three keys for one checkpoint; for several, one
 * such mapping per checkpoint under its model address, in the order given.
 */
export function benchmarkResultsYaml(curve: readonly DriftPoint[]): string {
  const alternatives = measuredAlternatives(curve);
  const value = curve.length === 1 ? alignbenchValues(curve[0]!, alternatives) : Object.fromEntries(curve.map((point) => [point.model, alignbenchValues(point, alternatives)]));
  const body = stringify(value, { lineWidth: 0 });
  if (alternatives.size === 0) return body;
  // With alternatives, a comment says which S each DSI key used (a YAML reader skips it).
  const notes = [FIDELITY_METRIC, ...alternatives].map(
    (name) => `# ${name === FIDELITY_METRIC ? "Drift Sensitivity Index (DSI)" : ALTERNATIVE_KEYS.find((entry) => entry.scorer === name)!.key}: S = ${DSI_SCORES[name]}`,
  );
  return `${notes.join("\n")}\n${body}`;
}

/** Row-level findings drift.json lists beside the metrics, per checkpoint (read from the run's rows). */
export interface DriftRowFindings {
  /** Probes whose verdict changed between base and fine-tuned, both ways. */
  flipped_probes: Array<{ id: string; flip: number; label: string | null; aligned_base: number | null; aligned_target: number | null }>;
  /** The positions with the largest KL over all texts, largest first. */
  top_kl: Array<{ id: string; part: string; position: unknown; token: unknown; kl: number; context: unknown }>;
  /** Each text's fidelity loss (mean per-token KL), for the distribution over texts. */
  texts: Array<{ id: string; part: string; fl: number | null; tokens: number | null }>;
}

export interface DriftJson {
  schema_version: 1;
  run_id: string;
  base: string;
  /** Which score S each DSI of the run used, by suite metric (drift_fidelity_dsi: the default). */
  dsi_scores: Record<string, string>;
  checkpoints: Array<DriftPoint & Partial<DriftRowFindings>>;
}

/** drift.json: every value of the drift metrics with its interval per checkpoint, and the rows' findings. */
export function driftJson(summary: RunSummary, base: string, curve: readonly DriftPoint[], findings: ReadonlyMap<string, DriftRowFindings> = new Map()): DriftJson {
  const measured = [FIDELITY_METRIC, ...measuredAlternatives(curve)];
  return {
    schema_version: 1,
    run_id: summary.run_id,
    base,
    dsi_scores: Object.fromEntries(measured.map((name) => [name, DSI_SCORES[name]!])),
    checkpoints: curve.map((point) => ({ ...point, ...findings.get(point.model) })),
  };
}

/** The drift curve on the terminal: one line per checkpoint, in order, each value with its 95% interval. */
export function renderDriftCurve(summary: RunSummary, curve: readonly DriftPoint[]): string {
  const alternatives = measuredAlternatives(curve);
  const columns = [...CURVE, ...ALTERNATIVE_CURVE.filter(({ scorer }) => alternatives.has(scorer))];
  const body = curve.map((point, index) => [String(index + 1), point.model, ...columns.map(({ scorer, metric }) => formatMetric(summary, { scorer, metric }, estimateOf(point, scorer, metric)))]);
  const table = `Drift against the base, per checkpoint (95% CI)\n${renderTable(["#", "checkpoint", ...columns.map((entry) => entry.label)], body)}`;
  // Which S each DSI used, and why any is empty (S_in = 0 leaves the ratio undefined).
  const notes = [FIDELITY_METRIC, ...alternatives].map((name) => `  ${name === FIDELITY_METRIC ? "DSI" : name === TASK_DSI_METRIC ? "DSI task" : "DSI judge"}: S = ${DSI_SCORES[name]}`);
  const empty = curve.flatMap((point) =>
    columns
      .map(({ label, scorer, metric }) => ({ label, note: estimateOf(point, scorer, metric)?.note, value: estimateOf(point, scorer, metric)?.estimate }))
      .filter((entry) => entry.value === null && entry.note !== undefined)
      .map((entry) => `  ${point.model}: ${entry.label} empty: ${entry.note}`),
  );
  return [table, ...(alternatives.size > 0 ? notes : []), ...empty].join("\n");
}
