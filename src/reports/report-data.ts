import { join } from "node:path";
import { folderFiles } from "../results/run-folder.js";
import { seededRandom } from "../common/seeded-random.js";
import { proportion, type Estimate } from "../metrics/intervals.js";
import { SummaryBuilder, type HeadlineDefinition } from "../metrics/summary.js";
import type { RunSummary } from "../metrics/summary-types.js";
import { compareRuns, loadComparisonRows, type RunComparison } from "../metrics/compare-runs.js";
import { findDeclaration, outcomeOf, primaryMetricOf, severityOf, type MetricRef, type Outcome } from "../metrics/outcome.js";
import { readManifest, type Manifest } from "../results/manifest.js";
import { runDeclarations } from "../metrics/declarations.js";
import { BASE_DIMENSIONS } from "../results/record.js";
import { loadLatestRows } from "../results/load-run.js";
import type { ResultRow, TranscriptCall } from "../results/record.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import { SEVERITY_BINS, severityBin } from "./severity.js";
import { VERSION } from "../version.js";

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

export interface UsageSummary {
  model: string;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  latency_ms: { mean: number | null; p50: number | null; p95: number | null };
  /** Only when prices were given (`--price MODEL=IN,OUT`, dollars per million tokens). */
  cost_usd: number | null;
}

/** The metric a run is judged by first (its first headline's, else its first directed scorer's primary metric). */
export interface PrimaryMetric extends MetricRef {
  /** The metric's declared label, e.g. "refusal rate (full + partial)". */
  label: string;
}

export interface RunReport {
  manifest: Pick<Manifest, "run_id" | "created_at" | "updated_at" | "tool" | "dataset" | "models" | "judge" | "scorers" | "environment"> & {
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
const SAMPLE_TEXT_LIMIT = 1_000;

function clip(text: string | null | undefined, limit = TEXT_LIMIT): string | null {
  if (text === null || text === undefined) return null;
  return text.length > limit ? `${text.slice(0, limit)}… [${text.length - limit} more characters]` : text;
}

/** What a report needs to know of a run to describe its rows: what its scorers measure, and which metric comes first. */
export interface RunLens {
  scorers: readonly ScorerDeclaration[];
  primary: MetricRef | undefined;
}

/** The scorers and primary metric of a run, from its manifest (0.1 folders: the built-in declarations). */
export function runLens(manifest: Manifest): RunLens {
  const scorers = runDeclarations(manifest);
  const headlines = (manifest.config.headlines as Array<{ scorer: string; metric?: string }> | undefined) ?? [];
  return { scorers, primary: primaryMetricOf(scorers, headlines) };
}

/**
 * A row's calls with their texts: a call written without its messages or response (the plan's first call
 * sends the row's `messages`; its last call to the model under test answers `raw_candidate`) gets them back.
 */
export function transcriptOf(row: Pick<ResultRow, "transcript" | "messages" | "raw_candidate">): TranscriptCall[] {
  const calls = row.transcript ?? [];
  const lastTarget = calls.map((call) => call.role).lastIndexOf("target");
  return calls.map((call, index) => ({
    ...call,
    messages: call.messages ?? (index === 0 ? (row.messages ?? []) : []),
    response: call.response !== undefined ? call.response : index === lastTarget ? row.raw_candidate : null,
  }));
}

/** The single call that shows nothing beyond the item's prompt and response. */
function onlyTheResponse(row: Pick<ResultRow, "transcript" | "messages" | "raw_candidate">): boolean {
  const calls = transcriptOf(row);
  return calls.length === 0 || (calls.length === 1 && calls[0]!.response === row.raw_candidate && !calls[0]!.error);
}

function reportCall(call: TranscriptCall, limit: number): ReportCall {
  return {
    role: call.role,
    model: call.model,
    messages: (call.messages ?? []).map((message) => ({
      role: String(message.role),
      content: clip(typeof message.content === "string" ? message.content : JSON.stringify(message.content), limit) ?? "",
    })),
    response: clip(call.response, limit),
    finish_reason: call.finish_reason ?? null,
    error: call.error ?? null,
  };
}

/**
 * One row as a report shows it. `full`: the transcript even when it is one call, with longer texts (the
 * worst and failed items); a sampled item carries it only when the plan made more than its one call.
 */
export function reportItem(row: ResultRow, lens: RunLens, full = true): ReportItem {
  const limit = full ? TEXT_LIMIT : SAMPLE_TEXT_LIMIT;
  const inputs = { scores: row.scores, tags: row.tags };
  return {
    key: row.key,
    test_id: row.test_id,
    model: row.model_slug,
    persona: row.persona_slug,
    category: row.category,
    epoch: row.epoch,
    dimensions: row.dimensions ?? { test: row.test_id, persona: row.persona_slug, model: row.model_slug, epoch: row.epoch },
    tags: row.tags ?? null,
    status: row.status,
    prompt: clip((row.messages ?? []).filter((message) => message.role === "user").at(-1)?.content ?? "", limit)!,
    response: clip(row.raw_candidate, limit),
    outcome: lens.primary ? outcomeOf(inputs, lens.scorers, lens.primary) : null,
    severity: severityOf(inputs, lens.scorers, lens.primary),
    scores: Object.fromEntries(
      Object.entries(row.scores ?? {}).map(([name, score]) => [
        name,
        {
          value: score.value,
          label: score.label,
          ...(score.metrics ? { metrics: score.metrics } : {}),
          error: score.error,
          raw: clip(score.raw, limit),
          ...(score.model ? { model: score.model } : {}),
        },
      ]),
    ),
    transcript: full || !onlyTheResponse(row) ? transcriptOf(row).map((call) => reportCall(call, limit)) : null,
    error: row.error,
  };
}

/**
 * How an item ranks among the worst: its severity, else (an unbounded metric with a direction, which has
 * no range) its value signed by the direction. Undefined when the item is not bad (or cannot be ranked).
 */
export function worstRank(
  item: { outcome: Outcome | null; severity: number | null; scores: Record<string, { value: number | null; metrics?: Record<string, number | null> | undefined }> | null },
  lens: RunLens,
): number | undefined {
  if (item.outcome === "bad" && item.severity !== null) return item.severity;
  if (!lens.primary || item.outcome !== "neutral") return undefined;
  const declaration = findDeclaration(lens.scorers, lens.primary.scorer);
  const metric = declaration?.metrics.find((entry) => entry.name === lens.primary!.metric);
  if (!declaration || !metric || metric.kind.type !== "unbounded") return undefined;
  const score = item.scores?.[lens.primary.scorer];
  const value = metric.name === declaration.metrics[0].name ? score?.value : score?.metrics?.[metric.name];
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  const bad = metric.bad;
  const direction = typeof bad === "string" ? bad : undefined;
  return direction === "high" ? value : direction === "low" ? -value : undefined;
}

/** Keeps the k items ranked worst (ties: the first seen). */
class WorstItems {
  private readonly items: Array<{ rank: number; item: ReportItem }> = [];
  constructor(
    private readonly k: number,
    private readonly lens: RunLens,
  ) {}
  offer(row: ResultRow, outcome: Outcome | null, severity: number | null): void {
    if (this.k === 0) return;
    const rank = worstRank({ outcome, severity, scores: row.scores }, this.lens);
    if (rank === undefined) return;
    if (this.items.length === this.k && rank <= this.items[this.items.length - 1]!.rank) return;
    this.items.push({ rank, item: reportItem(row, this.lens, true) });
    this.items.sort((a, b) => b.rank - a.rank);
    if (this.items.length > this.k) this.items.pop();
  }
  list(): ReportItem[] {
    return this.items.map((entry) => entry.item);
  }
}

/** A seeded reservoir sample, so a report of the same run lists the same items. */
class ItemSample {
  private readonly items: ReportItem[] = [];
  private seen = 0;
  private readonly random = seededRandom(20240601);
  constructor(
    private readonly size: number,
    private readonly make: (row: ResultRow) => ReportItem,
  ) {}
  offer(row: ResultRow): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(this.make(row));
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.size) this.items[slot] = this.make(row);
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
  return counts.map(({ group, model, n, above }) => ({ ...proportion(above, n), group, model })).sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.model < b.model ? -1 : 1));
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
    latency_ms: {
      mean: sortedLatencies.length ? sortedLatencies.reduce((sum, value) => sum + value, 0) / sortedLatencies.length : null,
      p50: percentile(sortedLatencies, 0.5),
      p95: percentile(sortedLatencies, 0.95),
    },
    cost_usd: price ? (input * price.input + output * price.output) / 1e6 : null,
  };
}

/** The primary metric with its declared label. */
export function primaryWithLabel(lens: RunLens): PrimaryMetric | null {
  if (!lens.primary) return null;
  const metric = findDeclaration(lens.scorers, lens.primary.scorer)?.metrics.find((entry) => entry.name === lens.primary!.metric);
  return { ...lens.primary, label: metric?.label ?? lens.primary.metric };
}

/** Builds one run's report in one pass over its latest rows. */
export async function buildRunReport(folder: string, options: ReportOptions = {}): Promise<RunReport> {
  const threshold = options.severityThreshold ?? 0.7;
  const manifest = await readManifest(folderFiles(folder).manifest);
  if (!manifest) throw new Error(`${folder}: no manifest.json`);
  const lens = runLens(manifest);
  const headlines = (manifest.config.headlines as HeadlineDefinition[] | undefined) ?? [];
  const summaryBuilder = new SummaryBuilder({
    scorers: [...lens.scorers],
    dimensions: (manifest.dimensions ?? [...BASE_DIMENSIONS]),
    headlines,
    clusterBy: manifest.config.cluster_by as string | undefined,
    ...(manifest.config.group_by ? { groupBy: manifest.config.group_by as string[] } : {}),
  });
  const histogram = new Map<string, number[]>();
  const above = { category: new Map<string, { n: number; above: number }>(), persona: new Map<string, { n: number; above: number }>() };
  const worst = new WorstItems(options.worst ?? 25, lens);
  const sample = new ItemSample(options.maxItems ?? 1_000, (row) => reportItem(row, lens, false));
  const errors = new ItemSample(50, (row) => reportItem(row, lens, true));
  const usage = new Map<string, { calls: number; prompt: number; completion: number; latencies: number[] }>();
  let total = 0;
  await loadLatestRows(folder, (row) => {
    total++;
    summaryBuilder.add(row);
    const inputs = { scores: row.scores, tags: row.tags };
    const outcome = lens.primary ? outcomeOf(inputs, lens.scorers, lens.primary) : null;
    const severity = severityOf(inputs, lens.scorers, lens.primary);
    if (severity !== null) {
      let counts = histogram.get(row.model_slug);
      if (!counts) histogram.set(row.model_slug, (counts = new Array<number>(SEVERITY_BINS).fill(0)));
      counts[severityBin(severity)]!++;
      for (const [kind, group] of [
        ["category", row.category],
        ["persona", row.persona_slug],
      ] as const) {
        const id = `${group}\u0000${row.model_slug}`;
        const entry = above[kind].get(id) ?? { n: 0, above: 0 };
        entry.n++;
        if (severity > threshold) entry.above++;
        above[kind].set(id, entry);
      }
    }
    worst.offer(row, outcome, severity);
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
  const summary = summaryBuilder.build(manifest.run_id);
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
    primary: primaryWithLabel(lens),
    severity: {
      threshold,
      histogram: [...histogram].map(([model, counts]) => ({ model, counts })),
      above_by_category: shares(above.category),
      above_by_persona: shares(above.persona),
      worst: worst.list(),
    },
    usage: [...usage].map(([model, use]) => usageSummary(model, use.calls, use.prompt, use.completion, Float64Array.from(use.latencies).sort(), options.prices?.[model])),
    items: sample.list(),
    items_total: total,
    errors: errors.list(),
  };
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
