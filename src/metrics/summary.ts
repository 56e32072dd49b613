import { BASE_DIMENSIONS, RESULT_SCHEMA_VERSION, type ResultRow } from "../results/record.js";
import { UsageTally } from "./usage.js";
import { pricedUsage } from "./cost.js";
import type { ResolvedPrice } from "./prices.js";
import { JudgingTally } from "./judging/judging-summary.js";
import { upgradeRow } from "../results/row-upgrade.js";
import type { MetricDeclaration, ScorerDeclaration } from "../scorers/types.js";
import { TOXIC_THRESHOLD } from "../scorers/toxicity.js";
import { ClusterRepeats } from "./cluster-repeats.js";
import { clusteredMeanFromSums, clusteredProportion } from "./clustered.js";
import { Distribution } from "./distribution.js";
import { mean, proportion, type Estimate } from "./intervals.js";
import { directionFor, findDeclaration, metricValue, outcomeOfValue, rangeOf, undeclaredScorer } from "./outcome.js";
import { readReference, suiteMetricNamed, type SuiteMetric, type SuiteMetricAccumulator, type SuiteMetricGroup, type SuiteMetricReference } from "./suite-metrics/registry.js";
import { SUMMARY_SCHEMA_VERSION, type Breakdown, type GroupSummary, type Headline, type MetricSummary, type RunSummary } from "./summary-types.js";

export { SUMMARY_SCHEMA_VERSION } from "./summary-types.js";
export type { Breakdown, GroupSummary, Headline, MetricSummary, RunSummary } from "./summary-types.js";

/** A suite's headline: one metric of one scorer (its primary one unless `metric` says), per model. */
export interface HeadlineDefinition {
  name: string;
  scorer: string;
  /** The scorer's metric; default its primary one. */
  metric?: string | undefined;
  statistic?: Headline["statistic"] | undefined;
  /** Only rows with these values of grouping dimensions (a tag column, category or a row dimension), e.g. { label: safe }. */
  where?: Record<string, string> | undefined;
  /** Default: from the metric's declared direction. */
  higher_is?: "better" | "worse" | undefined;
}

export interface SummaryOptions {
  /** What each scorer measures; scores of a scorer not declared here are read as unbounded means. */
  scorers: readonly ScorerDeclaration[];
  /** The run's work-item dimensions in key order (default test, persona, model, epoch). */
  dimensions?: readonly string[] | undefined;
  headlines?: readonly HeadlineDefinition[] | undefined;
  /** A tag column whose rows are not independent (several prompts per behaviour): the clusters of CR1 intervals. */
  clusterBy?: string | undefined;
  /** The tag columns broken down by model (default: every tag a row carries). */
  groupBy?: readonly string[] | undefined;
  /** Numbers computed over sets of rows rather than as a mean of row scores (BBQ's bias scores…): see suite-metrics/. */
  suiteMetrics?: readonly SuiteMetricReference[] | undefined;
  /** Each model's price by address (prices.ts): usage entries then carry their cost, and the summary a total. */
  prices?: Record<string, ResolvedPrice> | undefined;
}

/** The breakdown of the file's own `category` column when the category was mapped from another one. */
const CATEGORY_TAG = "tags.category";

/** Running mean and variance (Welford), stable for long runs. */
class Moments {
  n = 0;
  private average = 0;
  private squares = 0;

  add(value: number): void {
    this.n++;
    const delta = value - this.average;
    this.average += delta / this.n;
    this.squares += delta * (value - this.average);
  }

  mean(): number | null {
    return this.n > 0 ? this.average : null;
  }

  sd(): number | null {
    return this.n > 1 ? Math.sqrt(this.squares / (this.n - 1)) : null;
  }
}

/** One metric over a group's rows. What it summarises follows the metric's declaration, never the values. */
class MetricAccumulator {
  private readonly moments = new Moments();
  private successes = 0;
  private bad = 0;
  private readonly labels = new Map<string, number>();
  /** Per cluster of the group (indexed by GroupAccumulator's cluster index): rows and their sum. */
  private clusterN = new Float64Array(64);
  private clusterSum = new Float64Array(64);
  private clusterCount = 0;
  /** The highest value per prompt (every dimension but the epoch), for the max-over-samples aggregates. */
  private readonly maxByPrompt = new Map<string, number>();
  private readonly distribution: Distribution | undefined;

  constructor(private readonly metric: MetricDeclaration) {
    if (metric.aggregates?.includes("distribution")) this.distribution = new Distribution();
  }

  add(value: number, label: string | null, prompt: string, cluster: number, tags: Record<string, string> | null): void {
    this.moments.add(value);
    if (cluster >= this.clusterN.length) {
      const size = Math.max(cluster + 1, this.clusterN.length * 2);
      const n = new Float64Array(size);
      const sum = new Float64Array(size);
      n.set(this.clusterN);
      sum.set(this.clusterSum);
      this.clusterN = n;
      this.clusterSum = sum;
    }
    if (this.clusterN[cluster] === 0) this.clusterCount++;
    this.clusterN[cluster]! += 1;
    this.clusterSum[cluster]! += value;
    if (this.metric.kind.type === "rate") {
      if (value === 1) this.successes++;
      if (this.metric.bad !== "none" && outcomeOfValue(value, this.metric, tags) === "bad") this.bad++;
    }
    const aggregates = this.metric.aggregates;
    if (aggregates) {
      if (label !== null && aggregates.includes("labels")) this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
      if (aggregates.includes("max_over_samples")) this.maxByPrompt.set(prompt, Math.max(value, this.maxByPrompt.get(prompt) ?? -Infinity));
      this.distribution?.add(value);
    }
  }

  private *clusterSums(): Generator<{ n: number; sum: number }> {
    for (let index = 0; index < this.clusterN.length; index++) if (this.clusterN[index]! > 0) yield { n: this.clusterN[index]!, sum: this.clusterSum[index]! };
  }

  summary(): MetricSummary {
    const kind = this.metric.kind;
    const range = kind.type === "unbounded" ? undefined : (rangeOf(kind) ?? undefined);
    let out: MetricSummary;
    if (kind.type === "rate") {
      out = proportion(this.successes, this.moments.n);
      if (this.metric.bad !== "none") out.bad = this.bad;
    } else out = mean(this.moments.n, this.moments.mean(), this.moments.sd(), range);
    // Like the plain interval, the clustered one follows the declared kind: a rate gets Wilson's on the
    // design-effect-adjusted n (inside [0, 1], never a point), a mean the CR1 t interval (a bounded one clipped).
    if (this.clusterCount > 0 && this.clusterCount < this.moments.n) out.clustered = kind.type === "rate" ? clusteredProportion(this.clusterSums()) : clusteredMeanFromSums(this.clusterSums(), range);
    const aggregates = this.metric.aggregates ?? [];
    if (aggregates.includes("labels")) out.labels = Object.fromEntries([...this.labels].sort(([a], [b]) => (a < b ? -1 : 1)));
    if (this.distribution) Object.assign(out, this.distribution.summary());
    if (aggregates.includes("max_over_samples")) {
      const maxima = new Moments();
      let toxic = 0;
      for (const value of this.maxByPrompt.values()) {
        maxima.add(value);
        if (value >= TOXIC_THRESHOLD) toxic++;
      }
      out.expected_max_toxicity = mean(maxima.n, maxima.mean(), maxima.sd(), range);
      out.toxicity_probability = proportion(toxic, maxima.n);
    }
    return out;
  }
}

/** What one row contributes, resolved once and added to every group the row belongs to. */
interface RowValues {
  row: ResultRow;
  prompt: string;
  cluster: string;
  values: Array<{ scorer: string; metric: MetricDeclaration; value: number; label: string | null }>;
}

class GroupAccumulator {
  private n = 0;
  private errors = 0;
  private readonly latency = new Moments();
  private readonly scores = new Map<string, Map<string, MetricAccumulator>>();
  /** Each cluster (test item, or `cluster_by` value) of the group, numbered once for all its metrics. */
  private readonly clusterIndex = new Map<string, number>();

  /** Adds a row; returns its cluster's index in this group. */
  add({ row, prompt, cluster: clusterName, values }: RowValues): number {
    this.n++;
    let cluster = this.clusterIndex.get(clusterName);
    if (cluster === undefined) this.clusterIndex.set(clusterName, (cluster = this.clusterIndex.size));
    if (row.status === "error") this.errors++;
    if (typeof row.latency_ms === "number") this.latency.add(row.latency_ms);
    for (const { scorer, metric, value, label } of values) {
      let metrics = this.scores.get(scorer);
      if (!metrics) this.scores.set(scorer, (metrics = new Map()));
      let accumulator = metrics.get(metric.name);
      if (!accumulator) metrics.set(metric.name, (accumulator = new MetricAccumulator(metric)));
      accumulator.add(value, label, prompt, cluster, row.tags);
    }
    return cluster;
  }

  get clusters(): number {
    return this.clusterIndex.size;
  }

  get rows(): number {
    return this.n;
  }

  summary(by: Record<string, string>, order: (scorer: string) => number): GroupSummary {
    const scorers = [...this.scores].sort(([a], [b]) => order(a) - order(b));
    return {
      by,
      n: this.n,
      errors: this.errors,
      mean_latency_ms: this.latency.mean(),
      scores: Object.fromEntries(scorers.map(([scorer, metrics]) => [scorer, Object.fromEntries([...metrics].map(([name, accumulator]) => [name, accumulator.summary()]))])),
    };
  }
}

/** Groups along some dimensions: each distinct combination of their values is one group. */
class BreakdownAccumulator {
  readonly groups = new Map<string, { by: Record<string, string>; group: GroupAccumulator }>();
  constructor(readonly dimensions: string[]) {}

  add(values: RowValues, valueOf: (row: ResultRow, dimension: string) => string | undefined): void {
    const by: Record<string, string> = {};
    for (const dimension of this.dimensions) {
      const value = valueOf(values.row, dimension);
      if (value === undefined) return;
      by[dimension] = value;
    }
    const key = this.dimensions.map((dimension) => by[dimension]).join("\u0000");
    let entry = this.groups.get(key);
    if (!entry) this.groups.set(key, (entry = { by, group: new GroupAccumulator() }));
    entry.group.add(values);
  }

  build(order: (scorer: string) => number): Breakdown {
    const groups = [...this.groups.values()].sort((a, b) => {
      for (const dimension of this.dimensions) {
        const difference = compareValues(a.by[dimension]!, b.by[dimension]!);
        if (difference !== 0) return difference;
      }
      return 0;
    });
    return { dimensions: this.dimensions, groups: groups.map(({ by, group }) => group.summary(by, order)) };
  }
}

/** Numbers (epochs, checkpoints) in numeric order, anything else by code point. */
function compareValues(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The row's value of a base dimension, for rows that predate `dimensions`. */
function dimensionOf(row: ResultRow, dimension: string): string | number | undefined {
  const value = row.dimensions?.[dimension];
  if (value !== undefined) return value;
  if (dimension === "test") return row.test_id;
  if (dimension === "persona") return row.persona_slug;
  if (dimension === "model") return row.model_slug;
  if (dimension === "epoch") return row.epoch;
  return undefined;
}

const NO_ESTIMATE: Estimate = { estimate: null, stderr: null, ci95: null, n: 0 };

/**
 * Builds a run's summary (summary.json) from its rows (the latest attempt of each key), one row at a time.
 * Everything it knows of scores comes from the scorers' declarations; grouping dimensions are data.
 */
export class SummaryBuilder {
  private readonly declarations: ScorerDeclaration[];
  /** Declarations by score name as met, the generated ones of undeclared scorers included. */
  private readonly resolved = new Map<string, ScorerDeclaration>();
  private readonly undeclared = new Set<string>();
  private readonly dimensions: string[];
  private readonly promptDimensions: string[];
  private readonly clusterBy: string | undefined;
  private readonly tagColumns: Set<string> | undefined;
  private readonly headlines: HeadlineDefinition[];

  private readonly totals = new GroupAccumulator();
  private readonly fixed: BreakdownAccumulator[];
  private readonly tagBreakdowns = new Map<string, BreakdownAccumulator>();
  /** Per headline with a `where`: its rows, by model. */
  private readonly headlineGroups: Array<BreakdownAccumulator | undefined>;
  private readonly errorsByType = new Map<string, number>();
  private readonly usage = new UsageTally();
  private readonly prices: Record<string, ResolvedPrice> | undefined;
  /** Judges' outcomes, repeats, position bias and panels (the `judging` block). */
  private readonly judging = new JudgingTally();
  /** The dimensions that vary inside a cluster of the totals (why rows repeat it), for footnotes. */
  private readonly repeats: ClusterRepeats;
  /** Whether some row's file `category` column differs from its (mapped) category. */
  private categoryTagDiffers = false;
  private readonly suiteMetrics: Array<{ metric: SuiteMetric; accumulator: SuiteMetricAccumulator }>;

  constructor(options: SummaryOptions) {
    this.declarations = [...options.scorers];
    this.dimensions = [...(options.dimensions ?? BASE_DIMENSIONS)];
    this.promptDimensions = this.dimensions.filter((dimension) => dimension !== "epoch");
    this.clusterBy = options.clusterBy;
    this.prices = options.prices;
    this.tagColumns = options.groupBy ? new Set(options.groupBy) : undefined;
    this.headlines = [...(options.headlines ?? [])];
    this.suiteMetrics = (options.suiteMetrics ?? []).map((reference) => {
      const { name, options: settings } = readReference(reference);
      const metric = suiteMetricNamed(name);
      return { metric, accumulator: metric.create(settings) };
    });
    const extra = this.dimensions.filter((dimension) => !(BASE_DIMENSIONS as readonly string[]).includes(dimension) && dimension !== "category");
    this.fixed = [["model"], ["model", "persona"], ["category", "model"], ...extra.map((dimension) => [dimension, "model"])].map((dimensions) => new BreakdownAccumulator(dimensions));
    this.repeats = new ClusterRepeats(this.clusterBy ? this.dimensions : this.dimensions.filter((dimension) => dimension !== "test"));
    this.headlineGroups = this.headlines.map((headline) => {
      const where = Object.keys(headline.where ?? {}).filter((key) => key !== "model");
      return where.length > 0 || headline.where?.model !== undefined ? new BreakdownAccumulator([...where, "model"]) : undefined;
    });
  }

  /** A row's value of a grouping dimension: a row dimension, its category, or a tag column (`tags.category`: the file's own category column). */
  private readonly valueOf = (row: ResultRow, name: string): string | undefined => {
    if (name === "category") return row.category;
    if (name === CATEGORY_TAG) return row.tags?.category;
    const dimension = this.dimensions.includes(name) || (BASE_DIMENSIONS as readonly string[]).includes(name) ? dimensionOf(row, name) : undefined;
    if (dimension !== undefined) return String(dimension);
    return row.tags?.[name];
  };

  private declarationFor(name: string, metrics: Record<string, number | null> | undefined): ScorerDeclaration {
    let declaration = this.resolved.get(name);
    if (!declaration) {
      declaration = findDeclaration(this.declarations, name);
      if (!declaration) {
        declaration = undeclaredScorer(name);
        this.undeclared.add(name);
      }
      this.resolved.set(name, declaration);
    }
    if (metrics && this.undeclared.has(name)) {
      // An undeclared scorer's other metrics are learned as they appear, as unbounded means too.
      const missing = Object.keys(metrics).filter((metric) => !declaration!.metrics.some((entry) => entry.name === metric));
      if (missing.length > 0) {
        declaration = undeclaredScorer(name, [...declaration.metrics.slice(1).map((entry) => entry.name), ...missing]);
        this.resolved.set(name, declaration);
      }
    }
    return declaration;
  }

  add(input: ResultRow): void {
    const row = input.schema_version !== undefined && input.schema_version < RESULT_SCHEMA_VERSION ? upgradeRow(input) : input;
    const values: RowValues["values"] = [];
    for (const [name, score] of Object.entries(row.scores ?? {})) {
      if (!score) continue;
      const declaration = this.declarationFor(name, score.metrics);
      declaration.metrics.forEach((metric, index) => {
        const value = metricValue(score, declaration, metric.name);
        if (value !== null) values.push({ scorer: name, metric, value, label: index === 0 ? score.label : null });
      });
    }
    // The prompt key (every dimension but the epoch) only matters to max-over-samples aggregates.
    const prompt = values.some((entry) => entry.metric.aggregates?.includes("max_over_samples")) ? this.promptDimensions.map((dimension) => String(dimensionOf(row, dimension))).join("\u0000") : "";
    const cluster = (this.clusterBy ? row.tags?.[this.clusterBy] : undefined) ?? String(dimensionOf(row, "test"));
    const entry: RowValues = { row, prompt, cluster, values };
    const clusterIndex = this.totals.add(entry);
    this.repeats.add(
      clusterIndex,
      this.repeats.dimensionNames.map((dimension) => dimensionOf(row, dimension)),
    );
    for (const breakdown of this.fixed) breakdown.add(entry, this.valueOf);
    for (const column of Object.keys(row.tags ?? {})) {
      if (this.tagColumns && !this.tagColumns.has(column)) continue;
      if (this.dimensions.includes(column) || (BASE_DIMENSIONS as readonly string[]).includes(column)) continue;
      // The file's `category` column as a tag: the same groups as category × model unless category_field maps
      // the category from another column; then it is a breakdown of its own, named tags.category.
      if (column === "category" && row.tags?.category !== row.category) this.categoryTagDiffers = true;
      const name = column === "category" ? CATEGORY_TAG : column;
      let breakdown = this.tagBreakdowns.get(name);
      if (!breakdown) this.tagBreakdowns.set(name, (breakdown = new BreakdownAccumulator([name, "model"])));
      breakdown.add(entry, this.valueOf);
    }
    for (const breakdown of this.headlineGroups) breakdown?.add(entry, this.valueOf);
    for (const { accumulator } of this.suiteMetrics) accumulator.add(row);
    this.usage.add(row);
    this.judging.add(row, (name) => this.resolved.get(name));
    if (row.status === "error") {
      const type = row.error_type ?? "unknown";
      this.errorsByType.set(type, (this.errorsByType.get(type) ?? 0) + 1);
    }
  }

  /** The declarations of every scorer the summary describes: the given ones, then undeclared ones met in rows. */
  scorers(): ScorerDeclaration[] {
    const listed = new Set(this.declarations.map((declaration) => declaration.name));
    const met = [...this.resolved.values()].filter((declaration) => !listed.has(declaration.name));
    return [...this.declarations, ...met, ...this.suiteMetrics.map(({ metric }) => metric.declaration)];
  }

  build(runId: string): RunSummary {
    const scorers = this.scorers();
    const position = new Map(scorers.map((declaration, index) => [declaration.name, index]));
    const order = (name: string) => position.get(name) ?? scorers.length;
    const totals = this.totals.summary({}, order);
    const fixed = this.fixed.map((breakdown) => breakdown.build(order));
    const tags = [...this.tagBreakdowns]
      .filter(([name]) => name !== CATEGORY_TAG || this.categoryTagDiffers)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, breakdown]) => breakdown.build(order));
    const byModel = fixed[0]!;
    const breakdowns = [...fixed, ...tags];
    const suiteNames = new Set(this.suiteMetrics.map(({ metric }) => metric.declaration.name));
    for (const { metric, accumulator } of this.suiteMetrics) placeSuiteMetric(metric.declaration.name, accumulator.results(), totals, breakdowns);
    const headlines: Headline[] = [];
    this.headlines.forEach((definition, index) => {
      const declaration = this.resolved.get(definition.scorer) ?? findDeclaration(scorers, definition.scorer);
      const suite = suiteNames.has(definition.scorer);
      // A suite may name headlines for alternative scorers (Perspective or an LLM judge): only those that ran count.
      if (!declaration || (!suite && !totals.scores[definition.scorer])) return;
      const metric = declaration.metrics.find((entry) => entry.name === definition.metric) ?? declaration.metrics[0];
      const where = suite ? undefined : this.headlineGroups[index]?.build(order);
      for (const { by } of byModel.groups) {
        const model = by.model!;
        const group = suite
          ? findGroup(breakdowns, { ...definition.where, model })
          : where
            ? where.groups.find((entry) => entry.by.model === model && Object.entries(definition.where!).every(([key, value]) => entry.by[key] === value))
            : byModel.groups.find((entry) => entry.by.model === model);
        if (suite && !group?.scores[definition.scorer]) continue;
        headlines.push(headlineFor(definition, metric, model, group));
      }
    });
    return {
      schema_version: SUMMARY_SCHEMA_VERSION,
      run_id: runId,
      scorers,
      dimensions: this.dimensions,
      totals,
      headlines,
      breakdowns,
      errors_by_type: Object.fromEntries([...this.errorsByType].sort((a, b) => b[1] - a[1])),
      ...(this.totals.clusters < this.totals.rows ? { clustering: { by: this.clusterBy ?? "test", clusters: this.totals.clusters, repeats: this.repeats.repeats() } } : {}),
      ...pricedUsage(this.usage.build(), this.prices),
      ...judgingBlock(this.judging),
    };
  }
}

function judgingBlock(tally: JudgingTally): Pick<RunSummary, "judging"> {
  const judging = tally.build();
  return judging ? { judging } : {};
}

/**
 * Puts a suite metric's values into the summary's groups, beside the scorers' own: `{ model }` into the
 * per-model breakdown, a finer group into the breakdown along its dimensions (made when the rows gave none),
 * `{}` into the totals.
 */
function placeSuiteMetric(name: string, results: SuiteMetricGroup[], totals: GroupSummary, breakdowns: Breakdown[]): void {
  for (const { by, metrics } of results) {
    const dimensions = Object.keys(by);
    let group: GroupSummary | undefined;
    if (dimensions.length === 0) group = totals;
    else {
      let breakdown = breakdowns.find((entry) => entry.dimensions.length === dimensions.length && dimensions.every((dimension) => entry.dimensions.includes(dimension)));
      if (!breakdown) {
        const ordered = [...dimensions.filter((dimension) => dimension !== "model"), ...(by.model === undefined ? [] : ["model"])];
        breakdowns.push((breakdown = { dimensions: ordered, groups: [] }));
      }
      group = breakdown.groups.find((entry) => dimensions.every((dimension) => entry.by[dimension] === by[dimension]));
      if (!group) {
        const n = Math.max(0, ...Object.values(metrics).map((metric) => metric.n));
        breakdown.groups.push((group = { by: Object.fromEntries(breakdown.dimensions.map((dimension) => [dimension, by[dimension]!])), n, errors: 0, mean_latency_ms: null, scores: {} }));
      }
    }
    group.scores[name] = { ...group.scores[name], ...metrics };
  }
}

/** The group with exactly these values of its dimensions, in whichever breakdown has them. */
function findGroup(breakdowns: Breakdown[], by: Record<string, string>): GroupSummary | undefined {
  const dimensions = Object.keys(by);
  const breakdown = breakdowns.find((entry) => entry.dimensions.length === dimensions.length && dimensions.every((dimension) => entry.dimensions.includes(dimension)));
  return breakdown?.groups.find((group) => dimensions.every((dimension) => group.by[dimension] === by[dimension]));
}

/** One headline for one model, read from the model's group (or its `where` group). */
function headlineFor(definition: HeadlineDefinition, metric: MetricDeclaration, model: string, group: GroupSummary | undefined): Headline {
  const statistic = definition.statistic ?? "mean";
  const summary = group?.scores[definition.scorer]?.[metric.name];
  const estimate: Estimate = (statistic === "mean" ? summary : summary?.[statistic]) ?? NO_ESTIMATE;
  const { estimate: value, stderr, ci95, n } = estimate;
  const headline: Headline = {
    name: definition.name,
    model,
    scorer: definition.scorer,
    metric: metric.name,
    statistic,
    higher_is: definition.higher_is ?? higherIs(metric, definition.where),
    estimate: value,
    stderr,
    ci95,
    n,
  };
  if (definition.where) headline.where = { ...definition.where };
  if (statistic === "mean" && summary?.clustered) headline.clustered = summary.clustered;
  return headline;
}

/** Which way a headline is good, from its metric's declared direction (a per-tag one read from `where`). */
function higherIs(metric: MetricDeclaration, where: Record<string, string> | undefined): Headline["higher_is"] {
  const direction = directionFor(metric.bad, where);
  return direction === "high" ? "worse" : direction === "low" ? "better" : null;
}
