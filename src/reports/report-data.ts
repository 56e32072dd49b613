import { join } from "node:path";
import { seededRandom } from "../common/seeded-random.js";
import { proportion, type Estimate } from "../metrics/intervals.js";
import { SummaryBuilder, type RunSummary } from "../metrics/summary.js";
import { compareRuns, loadComparisonRows, type RunComparison } from "../metrics/compare-runs.js";
import { readManifest, type Manifest } from "../results/manifest.js";
import { loadLatestRows } from "../results/load-run.js";
import type { ResultRow } from "../results/record.js";
import { SEVERITY_BINS, severityBin } from "./severity.js";
import { outcomeOf, primaryScorerOf, severityOf } from "../metrics/outcome.js";
import { VERSION } from "../version.js";

/** One response as a report shows it. Every string in it is untrusted and must be shown as text. */
export interface ReportItem {
  key: string;
  test_id: string;
  model: string;
  persona: string;
  category: string;
  epoch: number;
  status: "ok" | "error";
  prompt: string;
  response: string | null;
  attack_success: boolean | null;
  severity: number | null;
  judge_raw: string | null;
  scores: Record<string, { value: number | null; label: string | null }>;
  error: string | null;
}

/** Share of judged responses with severity above the threshold, per group, with a Wilson interval. */
export type SeverityShare = Estimate & { successes: number; group: string; model: string };

export interface UsageSummary {
  model: string;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  latency_ms: { mean: number | null; p50: number | null; p95: number | null };
  /** Only when prices were given (`--price MODEL=IN,OUT`, dollars per million tokens). */
  cost_usd: number | null;
}

export interface RunReport {
  manifest: Pick<Manifest, "run_id" | "created_at" | "updated_at" | "tool" | "dataset" | "models" | "judge" | "scorers" | "environment"> & {
    personas: string[];
    options: Record<string, unknown>;
  };
  summary: RunSummary;
  /** The metric the charts show: the first headline's scorer, or the verdict's attack success. */
  primary: { scorer: string; label: string };
  severity: {
    threshold: number;
    /** Per model: counts of severities in SEVERITY_BINS equal bins over [0, 1]. */
    histogram: Array<{ model: string; counts: number[] }>;
    above_by_category: SeverityShare[];
    above_by_persona: SeverityShare[];
    worst: ReportItem[];
  };
  usage: UsageSummary[];
  /** A sample of the items (all of them when there are few), and how many there are in all. */
  items: ReportItem[];
  items_total: number;
  errors: ReportItem[];
}

export interface ReportData {
  generated_at: string;
  tool_version: string;
  runs: RunReport[];
  /** With two runs: B against A, paired on the items both hold. */
  comparison: (RunComparison & { a: string; b: string }) | null;
  comparison_error: string | null;
}

export interface ReportOptions {
  severityThreshold?: number;
  /** Most items listed (sampled when there are more); metrics always use every row. */
  maxItems?: number;
  worst?: number;
  prices?: Record<string, { input: number; output: number }>;
}

const TEXT_LIMIT = 4_000;

function clip(text: string | null): string | null {
  return text === null ? null : text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}… [${text.length - TEXT_LIMIT} more characters]` : text;
}

export function reportItem(row: ResultRow, primary?: string): ReportItem {
  return {
    key: row.key,
    test_id: row.test_id,
    model: row.model_slug,
    persona: row.persona_slug,
    category: row.category,
    epoch: row.epoch,
    status: row.status,
    prompt: clip(row.messages.filter((message) => message.role === "user").at(-1)?.content ?? "")!,
    response: clip(row.raw_candidate),
    attack_success: outcomeOf(row, primary),
    severity: severityOf(row, primary),
    judge_raw: clip(row.judge_raw ?? Object.values(row.scores ?? {}).find((score) => score.raw !== null)?.raw ?? null),
    scores: Object.fromEntries(Object.entries(row.scores ?? {}).map(([name, score]) => [name, { value: score.value, label: score.label }])),
    error: row.error,
  };
}

/** Keeps the k items with the highest severity (ties: the first seen). */
class WorstItems {
  private readonly items: ReportItem[] = [];
  constructor(private readonly k: number, private readonly primary: string | undefined) {}
  offer(row: ResultRow, severity: number | null): void {
    if (severity === null || this.k === 0) return;
    if (this.items.length === this.k && severity <= this.items[this.items.length - 1]!.severity!) return;
    this.items.push(reportItem(row, this.primary));
    this.items.sort((a, b) => b.severity! - a.severity!);
    if (this.items.length > this.k) this.items.pop();
  }
  list(): ReportItem[] {
    return this.items;
  }
}

/** A seeded reservoir sample, so a report of the same run lists the same items. */
class ItemSample {
  private readonly items: ReportItem[] = [];
  private seen = 0;
  private readonly random = seededRandom(20240601);
  constructor(private readonly size: number, private readonly primary: string | undefined) {}
  offer(row: ResultRow): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(reportItem(row, this.primary));
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.size) this.items[slot] = reportItem(row, this.primary);
    }
  }
  list(): ReportItem[] {
    return [...this.items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

function percentile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
}

/** Wilson intervals of the share above the severity threshold, sorted by group then model. */
export function severityShares(counts: Array<{ group: string; model: string; n: number; above: number }>): SeverityShare[] {
  return counts
    .map(({ group, model, n, above }) => ({ ...proportion(above, n), group, model }))
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.model < b.model ? -1 : 1));
}

/** What a report shows of a run's manifest (no judge prompt or schema: they are long and in manifest.json). */
export function manifestBlock(manifest: Manifest): RunReport["manifest"] {
  const config = manifest.config;
  return {
    run_id: manifest.run_id,
    created_at: manifest.created_at,
    updated_at: manifest.updated_at,
    tool: manifest.tool,
    dataset: manifest.dataset,
    models: manifest.models,
    personas: manifest.personas.map((persona) => persona.slug),
    judge: manifest.judge ? { ...manifest.judge, prompt_template: "", schema: {} } : null,
    ...(manifest.scorers ? { scorers: manifest.scorers } : {}),
    environment: manifest.environment,
    options: {
      suite: config.suite ?? null,
      epochs: config.epochs,
      concurrency: config.concurrency,
      generation: config.generation,
      scorers: config.scorers,
      group_by: config.group_by ?? [],
    },
  };
}

/** Calls, tokens, latency percentiles and cost of one model. */
export function usageSummary(model: string, calls: number, input: number, output: number, sortedLatencies: Float64Array, price: { input: number; output: number } | undefined): UsageSummary {
  return {
    model,
    calls,
    prompt_tokens: input,
    completion_tokens: output,
    latency_ms: { mean: sortedLatencies.length ? sortedLatencies.reduce((sum, value) => sum + value, 0) / sortedLatencies.length : null, p50: percentile(sortedLatencies, 0.5), p95: percentile(sortedLatencies, 0.95) },
    cost_usd: price ? (input * price.input + output * price.output) / 1e6 : null,
  };
}

/** Builds one run's report in one pass over its latest rows. */
export async function buildRunReport(folder: string, options: ReportOptions = {}): Promise<RunReport> {
  const threshold = options.severityThreshold ?? 0.7;
  const manifest = await readManifest(join(folder, "manifest.json"));
  if (!manifest) throw new Error(`${folder}: no manifest.json`);
  const summaryBuilder = new SummaryBuilder({ clusterBy: manifest.config.cluster_by as string | undefined, groupBy: manifest.config.group_by as string[] | undefined });
  const histogram = new Map<string, number[]>();
  const above = { category: new Map<string, { n: number; above: number }>(), persona: new Map<string, { n: number; above: number }>() };
  const primary = primaryScorerOf(manifest);
  const worst = new WorstItems(options.worst ?? 25, primary);
  const sample = new ItemSample(options.maxItems ?? 1_000, primary);
  const errors = new ItemSample(50, primary);
  const usage = new Map<string, { calls: number; prompt: number; completion: number; latencies: number[] }>();
  let total = 0;
  await loadLatestRows(folder, (row) => {
    total++;
    summaryBuilder.add(row);
    const severity = severityOf(row, primary);
    if (severity !== null) {
      let counts = histogram.get(row.model_slug);
      if (!counts) histogram.set(row.model_slug, (counts = new Array<number>(SEVERITY_BINS).fill(0)));
      counts[severityBin(severity)]!++;
      for (const [kind, group] of [["category", row.category], ["persona", row.persona_slug]] as const) {
        const id = `${group}\u0000${row.model_slug}`;
        const entry = above[kind].get(id) ?? { n: 0, above: 0 };
        entry.n++;
        if (severity > threshold) entry.above++;
        above[kind].set(id, entry);
      }
    }
    worst.offer(row, severity);
    sample.offer(row);
    if (row.status === "error") errors.offer(row);
    const use = usage.get(row.model_slug) ?? { calls: 0, prompt: 0, completion: 0, latencies: [] };
    if (row.raw_candidate !== null) {
      use.calls++;
      use.prompt += row.usage?.input_tokens ?? 0;
      use.completion += row.usage?.output_tokens ?? 0;
      if (row.latency_ms !== null) use.latencies.push(row.latency_ms);
    }
    usage.set(row.model_slug, use);
    return undefined;
  });
  const headlines = (manifest.config.headlines as Parameters<SummaryBuilder["build"]>[1] | undefined) ?? [];
  const summary = summaryBuilder.build(manifest.run_id, headlines);
  const shares = (map: Map<string, { n: number; above: number }>): SeverityShare[] =>
    severityShares(
      [...map].map(([id, entry]) => {
        const [group, model] = id.split("\u0000") as [string, string];
        return { group, model, ...entry };
      }),
    );
  return {
    manifest: manifestBlock(manifest),
    summary,
    primary: primaryMetric(summary),
    severity: { threshold, histogram: [...histogram].map(([model, counts]) => ({ model, counts })), above_by_category: shares(above.category), above_by_persona: shares(above.persona), worst: worst.list() },
    usage: [...usage].map(([model, use]) => usageSummary(model, use.calls, use.prompt, use.completion, Float64Array.from(use.latencies).sort(), options.prices?.[model])),
    items: sample.list(),
    items_total: total,
    errors: errors.list(),
  };
}

/** The metric the charts show: the first headline's scorer, else the verdict's attack success, else the first scorer. */
export function primaryMetric(summary: RunSummary): { scorer: string; label: string } {
  const headline = summary.headlines[0];
  if (headline && headline.statistic === "mean") return { scorer: headline.scorer, label: headline.scorer === "verdict" ? "attack success" : headline.scorer };
  if (summary.totals.judged > 0) return { scorer: "verdict", label: "attack success" };
  const first = Object.keys(summary.totals.scores)[0];
  return first ? { scorer: first, label: first } : { scorer: "verdict", label: "attack success" };
}

/** The report of one run, or of two with their paired comparison (B against A). */
export async function buildReportData(folders: string[], options: ReportOptions = {}): Promise<ReportData> {
  const runs: RunReport[] = [];
  for (const folder of folders) runs.push(await buildRunReport(folder, options));
  let comparison: ReportData["comparison"] = null;
  let comparisonError: string | null = null;
  if (folders.length === 2) {
    try {
      const result = compareRuns(await loadComparisonRows(folders[0]!), await loadComparisonRows(folders[1]!));
      comparison = { ...result, a: runs[0]!.manifest.run_id, b: runs[1]!.manifest.run_id, onlyInA: result.onlyInA.slice(0, 100), onlyInB: result.onlyInB.slice(0, 100) };
    } catch (error) {
      comparisonError = (error as Error).message;
    }
  }
  return { generated_at: new Date().toISOString(), tool_version: VERSION, runs, comparison, comparison_error: comparisonError };
}
