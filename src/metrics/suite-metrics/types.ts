import type { ResultRow } from "../../results/record.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import type { MetricSummary } from "../summary-types.js";

// The suite-metric contract. Most numbers are a mean or rate of per-row scores, which the summary computes
// from scorers' declarations alone. Some are not: BBQ's bias scores are ratios of counts over a set of
// items, AlpacaEval's length-controlled win rate is a model fitted to every item, AlignX's average combines
// three axes. A suite metric reads the finished rows once and reports such numbers per group. It declares
// itself like a scorer (name, metrics with kinds and directions), and its values land in the summary's
// groups under that name, so headlines, the terminal, the report, paper tables and the viewer show them
// without knowing them.

/** A suite metric's values for one group of rows: the model's ({ model }) or a finer one ({ category, model }). */
export interface SuiteMetricGroup {
  /** The group's values of its dimensions: a row dimension (model, persona…), `category`, or a tag column. */
  by: Record<string, string>;
  /** By metric name (the declaration's): the estimate with its 95% interval, and any counts it rests on. */
  metrics: Record<string, MetricSummary>;
}

/** Reads a run's rows (the latest attempt of each key, errors included) one at a time. */
export interface SuiteMetricAccumulator {
  add(row: ResultRow): void;
  /** The values, per group; every group names `model`. */
  results(): SuiteMetricGroup[];
}

export interface SuiteMetric {
  /** Its name in suites (`suite_metrics: [NAME]`) and headlines (`scorer: NAME`), and the metrics it reports. */
  declaration: ScorerDeclaration;
  /** A fresh accumulator, with the suite's options for it (`suite_metrics: [{ name, options }]`). */
  create(options: Record<string, unknown>): SuiteMetricAccumulator;
}

/** How a suite names a suite metric: its name, or its name and options. */
export type SuiteMetricReference = string | { name: string; options?: Record<string, unknown> };
