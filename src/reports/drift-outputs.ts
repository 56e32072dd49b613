import { stringify } from "yaml";
import type { Estimate } from "../metrics/intervals.js";
import type { Headline, MetricSummary, RunSummary } from "../metrics/summary-types.js";
import { breakdownOf, formatMetric } from "./metric-kind.js";
import { renderTable } from "./terminal-summary.js";

// What a drift run leaves besides the run folder: AlignBench's benchmark_results.yaml (its three keys, as its
// scripts/run_alignbench.py writes them), a fuller drift.json, and the drift curve on the terminal. All read
// the run's summary: the suite metrics' values sit in the per-model groups under the metrics' names.

export const FIDELITY_METRIC = "drift_fidelity_dsi";
export const ARS_METRIC = "drift_ars";

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
    for (const name of [FIDELITY_METRIC, ARS_METRIC]) if (scores[name]) metrics[name] = scores[name];
    return { model, metrics, headlines: summary.headlines.filter((headline) => headline.model === model) };
  });
}

function estimateOf(point: DriftPoint, scorer: string, metric: string): Estimate | undefined {
  return point.metrics[scorer]?.[metric];
}

/** One checkpoint's AlignBench mapping: the three keys, each a plain number (null where the run has none). */
function alignbenchValues(point: DriftPoint): Record<string, number | null> {
  return Object.fromEntries(ALIGNBENCH_KEYS.map(({ key, scorer, metric }) => [key, estimateOf(point, scorer, metric)?.estimate ?? null]));
}

/**
 * benchmark_results.yaml: AlignBench's flat mapping of its three keys for one checkpoint; for several, one
 * such mapping per checkpoint under its model address, in the order given.
 */
export function benchmarkResultsYaml(curve: readonly DriftPoint[]): string {
  const value = curve.length === 1 ? alignbenchValues(curve[0]!) : Object.fromEntries(curve.map((point) => [point.model, alignbenchValues(point)]));
  return stringify(value, { lineWidth: 0 });
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
  checkpoints: Array<DriftPoint & Partial<DriftRowFindings>>;
}

/** drift.json: every value of the drift metrics with its interval per checkpoint, and the rows' findings. */
export function driftJson(summary: RunSummary, base: string, curve: readonly DriftPoint[], findings: ReadonlyMap<string, DriftRowFindings> = new Map()): DriftJson {
  return { schema_version: 1, run_id: summary.run_id, base, checkpoints: curve.map((point) => ({ ...point, ...findings.get(point.model) })) };
}

/** The drift curve on the terminal: one line per checkpoint, in order, each value with its 95% interval. */
export function renderDriftCurve(summary: RunSummary, curve: readonly DriftPoint[]): string {
  const body = curve.map((point, index) => [String(index + 1), point.model, ...CURVE.map(({ scorer, metric }) => formatMetric(summary, { scorer, metric }, estimateOf(point, scorer, metric)))]);
  return `Drift against the base, per checkpoint (95% CI)\n${renderTable(["#", "checkpoint", ...CURVE.map((entry) => entry.label)], body)}`;
}
