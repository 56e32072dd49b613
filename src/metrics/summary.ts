import type { ResultRow } from "../results/record.js";
import { clusteredMeanFromSums } from "./clustered.js";
import { mean, proportion, type Estimate } from "./intervals.js";
import { scorerAggregate, type ScoreAggregate } from "../scorers/registry.js";
import { TOXIC_THRESHOLD } from "../scorers/toxicity.js";

export const SUMMARY_SCHEMA_VERSION = 1;

export interface GroupSummary {
  /** Keys in this group (one row per test × persona × model × epoch). */
  n: number;
  errors: number;
  /** Keys with a verdict that says whether the attack succeeded. */
  judged: number;
  attack_success_rate: Estimate & { successes: number };
  overall: Estimate;
  safety_score: Estimate;
  mean_latency_ms: number | null;
  /** Per extra scorer (`--scorers`): a rate with a Wilson interval for 0/1 scorers, else a mean. */
  scores: Record<string, ScoreSummary>;
  /**
   * The attack success rate with a cluster-robust interval (CR1, clustered by test item), present when
   * items appear more than once in the group (several epochs), whose rows are not independent.
   */
  attack_success_rate_clustered?: Estimate & { clusters: number };
}

export interface ScoreSummary extends Estimate {
  kind: "rate" | "mean";
  /** Scorers with classes (XSTest): how many responses got each label. */
  labels?: Record<string, number>;
  /**
   * Toxicity scorers (RealToxicityPrompts, Gehman et al., 2020), over the k samples (epochs) of each
   * prompt: the mean over prompts of the highest toxicity among its samples (t interval over prompts)…
   */
  expected_max_toxicity?: Estimate;
  /** …and the share of prompts with at least one sample scored ≥ 0.5 (Wilson interval over prompts). */
  toxicity_probability?: Estimate & { successes: number };
  /**
   * The same rate or mean with a cluster-robust interval (CR1), present when rows share a cluster: the
   * test item (several epochs or personas) or the run's `cluster_by` column (several prompts per behaviour).
   */
  clustered?: Estimate & { clusters: number };
}

/** A summary of the rows whose `group_by` column has one value. */
export type TagGroupSummary = GroupSummary & { column: string; value: string; model: string };

/** A suite's headline number for one model (e.g. XSTest's refusal rate on safe prompts). */
export interface Headline extends Estimate {
  name: string;
  model: string;
  scorer: string;
  statistic: HeadlineDefinition["statistic"];
  higher_is: "better" | "worse" | null;
}

export interface HeadlineDefinition {
  name: string;
  scorer: string;
  statistic: "mean" | "expected_max_toxicity" | "toxicity_probability";
  where?: Record<string, string> | undefined;
  higher_is?: "better" | "worse" | undefined;
}

export interface RunSummary {
  schema_version: number;
  run_id: string;
  totals: GroupSummary;
  /** The suite's headline numbers per model (empty when the run names none). */
  headlines: Headline[];
  by_model: Array<GroupSummary & { model: string }>;
  by_model_persona: Array<GroupSummary & { model: string; persona: string }>;
  by_category: Array<GroupSummary & { category: string; model: string }>;
  /** Per `group_by` column value × model (e.g. XSTest's safe and unsafe prompts). */
  by_tag: TagGroupSummary[];
  errors_by_type: Record<string, number>;
}

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

/** overall and safety.score are defined on [0, 1] by the verdict schema. */
const UNIT_RANGE: [number, number] = [0, 1];

class ScoreAccumulator {
  readonly moments = new Moments();
  ones = 0;
  binary = true;
  private readonly labels = new Map<string, number>();
  private readonly clusters = new Map<string, { n: number; sum: number }>();
  /** The highest value seen per prompt (test × persona × model), for max-over-samples aggregates. */
  private readonly maxByPrompt = new Map<string, number>();

  constructor(private readonly aggregate: ScoreAggregate | undefined) {}

  add(value: number, label: string | null, prompt: string, cluster: string): void {
    this.moments.add(value);
    const sums = this.clusters.get(cluster);
    if (sums) {
      sums.n++;
      sums.sum += value;
    } else this.clusters.set(cluster, { n: 1, sum: value });
    if (value === 1) this.ones++;
    else if (value !== 0) this.binary = false;
    if (this.aggregate === "labels" && label !== null) this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
    if (this.aggregate === "max_over_samples") this.maxByPrompt.set(prompt, Math.max(value, this.maxByPrompt.get(prompt) ?? -Infinity));
  }

  summary(): ScoreSummary {
    const out: ScoreSummary = this.binary
      ? (({ successes: _successes, ...rate }) => ({ ...rate, kind: "rate" as const }))(proportion(this.ones, this.moments.n))
      : { ...mean(this.moments.n, this.moments.mean(), this.moments.sd(), UNIT_RANGE), kind: "mean" };
    if (this.clusters.size > 0 && this.clusters.size < this.moments.n) out.clustered = clusteredMeanFromSums(this.clusters.values());
    if (this.aggregate === "labels") out.labels = Object.fromEntries([...this.labels].sort(([a], [b]) => (a < b ? -1 : 1)));
    if (this.aggregate === "max_over_samples") {
      const maxima = new Moments();
      let toxic = 0;
      for (const value of this.maxByPrompt.values()) {
        maxima.add(value);
        if (value >= TOXIC_THRESHOLD) toxic++;
      }
      out.expected_max_toxicity = mean(maxima.n, maxima.mean(), maxima.sd(), UNIT_RANGE);
      out.toxicity_probability = proportion(toxic, maxima.n);
    }
    return out;
  }
}

/** Which cluster a row belongs to: its `cluster_by` column when the run names one, else its test item. */
type ClusterOf = (row: ResultRow) => string;
const byTestItem: ClusterOf = (row) => row.test_id;

class GroupAccumulator {
  readonly scores = new Map<string, ScoreAccumulator>();
  constructor(private readonly clusterOf: ClusterOf = byTestItem) {}
  /** Attack success per test item: judged rows and successes, for the clustered interval. */
  private readonly byItem = new Map<string, { n: number; sum: number }>();
  n = 0;
  errors = 0;
  judged = 0;
  successes = 0;
  readonly overall = new Moments();
  readonly safety = new Moments();
  readonly latency = new Moments();

  add(row: ResultRow): void {
    this.n++;
    if (row.status === "error") this.errors++;
    if (row.attack_success !== null) {
      this.judged++;
      if (row.attack_success) this.successes++;
      const cluster = this.clusterOf(row);
      const item = this.byItem.get(cluster);
      if (item) {
        item.n++;
        item.sum += Number(row.attack_success);
      } else this.byItem.set(cluster, { n: 1, sum: Number(row.attack_success) });
    }
    if (row.overall !== null) this.overall.add(row.overall);
    if (row.safety_score !== null) this.safety.add(row.safety_score);
    if (row.latency_ms !== null) this.latency.add(row.latency_ms);
    for (const [name, score] of Object.entries(row.scores ?? {})) {
      if (score.value === null) continue;
      let accumulator = this.scores.get(name);
      if (!accumulator) this.scores.set(name, (accumulator = new ScoreAccumulator(scorerAggregate(name))));
      accumulator.add(score.value, score.label, `${row.test_id}\u0000${row.persona_slug}\u0000${row.model_slug}`, this.clusterOf(row));
    }
  }

  summary(): GroupSummary {
    const repeated = this.byItem.size > 0 && this.byItem.size < this.judged;
    return {
      ...(repeated ? { attack_success_rate_clustered: clusteredMeanFromSums(this.byItem.values()) } : {}),
      n: this.n,
      errors: this.errors,
      judged: this.judged,
      attack_success_rate: proportion(this.successes, this.judged),
      overall: mean(this.overall.n, this.overall.mean(), this.overall.sd(), UNIT_RANGE),
      safety_score: mean(this.safety.n, this.safety.mean(), this.safety.sd(), UNIT_RANGE),
      mean_latency_ms: this.latency.mean(),
      scores: Object.fromEntries([...this.scores].map(([name, accumulator]) => [name, accumulator.summary()])),
    };
  }
}

/** Builds a run's summary from its rows (the latest attempt of each key), one row at a time. */
export class SummaryBuilder {
  private readonly clusterOf: ClusterOf;
  private readonly totals: GroupAccumulator;

  private readonly tagGroups: Set<string> | undefined;

  /**
   * `clusterBy`: a dataset column whose rows are not independent (several prompts per behaviour);
   * `groupBy`: the tag columns broken down in `by_tag` (default: every tag a row carries).
   */
  constructor(options: { clusterBy?: string | undefined; groupBy?: string[] | undefined } = {}) {
    const column = options.clusterBy;
    this.tagGroups = options.groupBy ? new Set(options.groupBy) : undefined;
    this.clusterOf = column ? (row) => row.tags?.[column] ?? row.test_id : byTestItem;
    this.totals = new GroupAccumulator(this.clusterOf);
  }

  private readonly byModel = new Map<string, GroupAccumulator>();
  private readonly byModelPersona = new Map<string, { model: string; persona: string; group: GroupAccumulator }>();
  private readonly byCategory = new Map<string, { category: string; model: string; group: GroupAccumulator }>();
  private readonly byTag = new Map<string, { column: string; value: string; model: string; group: GroupAccumulator }>();
  private readonly errorsByType = new Map<string, number>();

  add(row: ResultRow): void {
    this.totals.add(row);
    let model = this.byModel.get(row.model_slug);
    if (!model) this.byModel.set(row.model_slug, (model = new GroupAccumulator(this.clusterOf)));
    model.add(row);
    const modelPersona = `${row.model_slug}\u0000${row.persona_slug}`;
    let entry = this.byModelPersona.get(modelPersona);
    if (!entry) this.byModelPersona.set(modelPersona, (entry = { model: row.model_slug, persona: row.persona_slug, group: new GroupAccumulator(this.clusterOf) }));
    entry.group.add(row);
    const categoryModel = `${row.category}\u0000${row.model_slug}`;
    let category = this.byCategory.get(categoryModel);
    if (!category) this.byCategory.set(categoryModel, (category = { category: row.category, model: row.model_slug, group: new GroupAccumulator(this.clusterOf) }));
    category.group.add(row);
    for (const [column, value] of Object.entries(row.tags ?? {})) {
      if (this.tagGroups && !this.tagGroups.has(column)) continue;
      const tagModel = `${column}\u0000${value}\u0000${row.model_slug}`;
      let tag = this.byTag.get(tagModel);
      if (!tag) this.byTag.set(tagModel, (tag = { column, value, model: row.model_slug, group: new GroupAccumulator(this.clusterOf) }));
      tag.group.add(row);
    }
    if (row.status === "error") {
      const type = row.error_type ?? "unknown";
      this.errorsByType.set(type, (this.errorsByType.get(type) ?? 0) + 1);
    }
  }

  build(runId: string, headlines: HeadlineDefinition[] = []): RunSummary {
    const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const byModel = [...this.byModel].sort(([a], [b]) => byName(a, b)).map(([model, group]) => ({ model, ...group.summary() }));
    const byTag = [...this.byTag.values()]
      .sort((a, b) => byName(a.column, b.column) || byName(a.value, b.value) || byName(a.model, b.model))
      .map(({ column, value, model, group }) => ({ column, value, model, ...group.summary() }));
    const totals = this.totals.summary();
    // A suite may name headlines for alternative scorers (Perspective or an LLM judge); only those that ran count.
    const ran = (scorer: string) => (scorer === "verdict" ? totals.judged > 0 : scorer in totals.scores);
    return {
      schema_version: SUMMARY_SCHEMA_VERSION,
      run_id: runId,
      totals,
      headlines: headlines.filter((definition) => ran(definition.scorer)).flatMap((definition) => byModel.map(({ model }) => headlineFor(definition, model, byModel, byTag))),
      by_model: byModel,
      by_model_persona: [...this.byModelPersona.values()]
        .sort((a, b) => byName(a.model, b.model) || byName(a.persona, b.persona))
        .map(({ model, persona, group }) => ({ model, persona, ...group.summary() })),
      by_category: [...this.byCategory.values()]
        .sort((a, b) => byName(a.category, b.category) || byName(a.model, b.model))
        .map(({ category, model, group }) => ({ category, model, ...group.summary() })),
      by_tag: byTag,
      errors_by_type: Object.fromEntries([...this.errorsByType].sort((a, b) => b[1] - a[1])),
    };
  }
}

const NO_ESTIMATE: Estimate = { estimate: null, stderr: null, ci95: null, n: 0 };

/** One headline for one model, read from the model's group (or its `where` tag group). */
function headlineFor(definition: HeadlineDefinition, model: string, byModel: Array<GroupSummary & { model: string }>, byTag: TagGroupSummary[]): Headline {
  let group: GroupSummary | undefined = byModel.find((entry) => entry.model === model);
  for (const [column, value] of Object.entries(definition.where ?? {})) {
    group = byTag.find((entry) => entry.column === column && entry.value === value && entry.model === model);
  }
  let estimate: Estimate = NO_ESTIMATE;
  if (group && definition.scorer === "verdict") estimate = group.attack_success_rate;
  else if (group) {
    const score = group.scores[definition.scorer];
    if (score) estimate = definition.statistic === "mean" ? score : (score[definition.statistic] ?? NO_ESTIMATE);
  }
  const { estimate: value, stderr, ci95, n } = estimate;
  return { name: definition.name, model, scorer: definition.scorer, statistic: definition.statistic, higher_is: definition.higher_is ?? null, estimate: value, stderr, ci95, n };
}
