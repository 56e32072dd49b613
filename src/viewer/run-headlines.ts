import { statSync } from "node:fs";
import type { Estimate } from "../metrics/intervals.js";
import type { RunSummary } from "../metrics/summary-types.js";
import { breakdownOf, metricDeclaration, metricEstimate, metricLabel, primaryMetric } from "../reports/metric-kind.js";
import { readSummary } from "../results/summary-reader.js";
import type { MetricKind } from "../scorers/types.js";

/** One cell of the runs list: a run's headline number for one model, with what it needs to be read. */
export interface BoardHeadline {
  name: string;
  model: string;
  estimate: number | null;
  ci95: [number, number] | null;
  n: number;
  /** Whether the interval counts a cluster's rows once (rows repeat a test item across personas, epochs…). */
  clustered: boolean;
  /** How the number reads: a rate in %, a bounded mean on its range, an unbounded mean with its unit. */
  kind: MetricKind;
  higher_is: "better" | "worse" | null;
  /** "headline": one the suite declares; "primary": a run without headlines, by its primary metric. */
  source: "headline" | "primary";
}

// The clustered interval where rows share a cluster, as the paper tables print it: comparing runs whose
// rows repeat an item (personas, epochs) with the plain interval would overstate how sure each number is.
function cell(base: Estimate & { clustered?: Estimate | undefined }): Pick<BoardHeadline, "estimate" | "ci95" | "n" | "clustered"> {
  const use = base.clustered?.ci95 ? base.clustered : base;
  return { estimate: base.estimate, ci95: use.ci95, n: base.n, clustered: use !== base };
}

/**
 * A summary's headline numbers, one per headline and model. A run whose suite declares none (a plain
 * verdict run) gets its primary metric by model instead, so every judged run has a number to rank by.
 */
export function boardHeadlines(summary: RunSummary): BoardHeadline[] {
  if (summary.headlines.length > 0) {
    return summary.headlines.map((headline) => {
      const declared = metricDeclaration(summary, headline);
      // A toxicity probability is a share of prompts whatever the underlying metric's kind.
      const kind: MetricKind = headline.statistic === "toxicity_probability" ? { type: "rate" } : (declared?.kind ?? { type: "rate" });
      return { name: headline.name, model: headline.model, ...cell(headline), kind, higher_is: headline.higher_is, source: "headline" };
    });
  }
  const primary = primaryMetric(summary);
  const declared = primary ? metricDeclaration(summary, primary) : undefined;
  if (!primary || !declared) return [];
  const bad = declared.bad;
  const higherIs = bad === "high" ? "worse" : bad === "low" ? "better" : null;
  return (breakdownOf(summary, "model")?.groups ?? []).flatMap((group) => {
    const value = metricEstimate(group, primary);
    return value ? [{ name: metricLabel(summary, primary), model: group.by.model ?? "", ...cell(value), kind: declared.kind, higher_is: higherIs, source: "primary" as const }] : [];
  });
}

const cache = new Map<string, { stamp: string; headlines: BoardHeadline[] }>();

/** A run folder's headlines from its summary.json (none before the run has finished, or for a 0.1 summary); read again only when the file changes. */
export function runHeadlines(summaryFile: string): BoardHeadline[] {
  const info = statSync(summaryFile, { throwIfNoEntry: false });
  if (!info) return [];
  const stamp = `${info.size}:${info.mtimeMs}`;
  const cached = cache.get(summaryFile);
  if (cached?.stamp === stamp) return cached.headlines;
  const summary = readSummary(summaryFile);
  const headlines = summary ? boardHeadlines(summary) : [];
  cache.set(summaryFile, { stamp, headlines });
  return headlines;
}
