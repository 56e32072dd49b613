import type { Judging, ResultRow, RowScore } from "../../results/record.js";
import { judgeOutcome, type JudgeOutcome } from "../../scorers/judge/judge-outcome.js";
import type { MetricDeclaration, ScorerDeclaration } from "../../scorers/types.js";
import { rangeOf } from "../outcome.js";
import { dawidSkene } from "./dawid-skene.js";
import { fleissKappa, pairwiseCohen } from "./rater-agreement.js";
import { repeatStatistics, type RepeatStatistics } from "./repeat-variance.js";
import type { LeaderboardEntry } from "./leaderboard.js";
import type { CorrectedRate } from "./rogan-gladen.js";

// What summary.json says about its judges (the `judging` block): how each judge's answers came out, how
// repeatable they are, how much the order of a pair moves them, how a panel agrees, and (added when the run
// finishes, from judge-evals in the results folder) rates corrected for the judge's measured errors.

/** Per scorer and judge: every judging's outcome. */
export interface JudgeCounts {
  scorer: string;
  judge: string;
  judgings: number;
  verdicts: number;
  refused: number;
  unparseable: number;
  errors: number;
}

/** Repeat judging of one metric, per model. */
export interface RepeatEntry extends RepeatStatistics {
  scorer: string;
  metric: string;
  by: Record<string, string>;
}

/** Pairwise judges (asked in both orders): the share of items whose verdict depends on the order. */
export interface PositionBiasEntry {
  scorer: string;
  by: Record<string, string>;
  /** Items judged in both orders. */
  n: number;
  order_dependent: number;
  share: number | null;
  /** Mean share of answers naming the text shown first (½ for a judge with no position bias). */
  first_position: number | null;
}

export interface PanelEntry {
  scorer: string;
  metric: string;
  judges: string[];
  /** Items with a verdict from at least one judge, and from every judge (Fleiss' kappa is over those). */
  items: number;
  complete_items: number;
  fleiss_kappa: number | null;
  pairwise: Array<{ a: string; b: string; n: number; kappa: number | null; agreement: number | null }>;
  /** Dawid–Skene (no labels): each judge's estimated accuracy, the class priors, and whether EM converged. */
  dawid_skene: { classes: string[]; priors: number[]; reliability: Record<string, number>; iterations: number; converged: boolean } | null;
}

/** A rate corrected for the judge's errors measured by a judge-eval (Rogan–Gladen). */
export interface CorrectedEntry extends CorrectedRate {
  scorer: string;
  metric: string;
  judge: string;
  by: Record<string, string>;
  /** The judge-eval's run folder the sensitivity and specificity come from. */
  judge_eval: string;
}

/** Where a score's judge came from: model, prompt hash, settings, and its measured agreement with labels. */
export interface ProvenanceEntry {
  scorer: string;
  judge: string;
  prompt_sha256: string | null;
  settings: Record<string, unknown>;
  agreement: { judge_eval: string; n: number; accuracy: number | null; kappa: number | null; reference_label: string } | null;
}

export interface JudgingSummary {
  judges: JudgeCounts[];
  repeats: RepeatEntry[];
  position_bias: PositionBiasEntry[];
  panels: PanelEntry[];
  corrected?: CorrectedEntry[];
  provenance?: ProvenanceEntry[];
  /** A judge-eval run with others on the same labels (`judge-eval --judge-model a,b,c`): every judge's measurements. */
  leaderboard?: LeaderboardEntry[];
}

const FIRST_POSITION_METRICS = ["first_position", "first_position_rate"];

/** Reads every finished row once; `build` gives the block, or undefined for a run no judge scored. */
export class JudgingTally {
  private readonly counts = new Map<string, JudgeCounts>();
  /** scorer → metric → model → per-row usable values of each judging. */
  private readonly repeats = new Map<string, { scorer: string; metric: MetricDeclaration; model: string; items: number[][] }>();
  private readonly positions = new Map<string, { scorer: string; model: string; n: number; dependent: number; first: number; firstN: number }>();
  private readonly panels = new Map<string, { scorer: string; metric: string; judges: string[]; rows: Array<Map<string, string>> }>();

  add(row: ResultRow, declarationOf: (scorer: string) => ScorerDeclaration | undefined): void {
    for (const [scorer, score] of Object.entries(row.scores ?? {})) {
      if (!score || (score.model === undefined && !score.panel && !score.repeats)) continue;
      const declaration = declarationOf(scorer);
      this.count(scorer, score);
      if (score.repeats && declaration) this.addRepeats(scorer, row.model_slug, declaration, score.repeats);
      if (score.panel && declaration) this.addPanel(scorer, declaration.metrics[0].name, score.panel);
      const consistent = score.metrics?.consistent;
      if (consistent === 0 || consistent === 1) {
        const key = `${scorer}\u0000${row.model_slug}`;
        let entry = this.positions.get(key);
        if (!entry) this.positions.set(key, (entry = { scorer, model: row.model_slug, n: 0, dependent: 0, first: 0, firstN: 0 }));
        entry.n++;
        if (consistent === 0) entry.dependent++;
        const first = FIRST_POSITION_METRICS.map((name) => score.metrics?.[name]).find((value) => typeof value === "number");
        if (typeof first === "number") {
          entry.first += first;
          entry.firstN++;
        }
      }
    }
  }

  private count(scorer: string, score: RowScore): void {
    const judgings: Array<{ judge: string; outcome: JudgeOutcome }> = score.panel
      ? score.panel.map((judging) => ({ judge: judging.judge ?? "?", outcome: judging.outcome }))
      : score.repeats
        ? score.repeats.map((judging) => ({ judge: score.model ?? "?", outcome: judging.outcome }))
        : [{ judge: score.model ?? "?", outcome: judgeOutcome(score) }];
    for (const { judge, outcome } of judgings) {
      const key = `${scorer}\u0000${judge}`;
      let entry = this.counts.get(key);
      if (!entry) this.counts.set(key, (entry = { scorer, judge, judgings: 0, verdicts: 0, refused: 0, unparseable: 0, errors: 0 }));
      entry.judgings++;
      if (outcome === "verdict") entry.verdicts++;
      else if (outcome === "refused") entry.refused++;
      else if (outcome === "unparseable") entry.unparseable++;
      else entry.errors++;
    }
  }

  private addRepeats(scorer: string, model: string, declaration: ScorerDeclaration, judgings: Judging[]): void {
    declaration.metrics.forEach((metric, index) => {
      const values = judgings
        .filter((judging) => judging.outcome === "verdict")
        .map((judging) => (index === 0 ? judging.value : (judging.metrics?.[metric.name] ?? null)))
        .filter((value): value is number => typeof value === "number");
      if (values.length === 0) return;
      const key = `${scorer}\u0000${metric.name}\u0000${model}`;
      let entry = this.repeats.get(key);
      if (!entry) this.repeats.set(key, (entry = { scorer, metric, model, items: [] }));
      entry.items.push(values);
    });
  }

  private addPanel(scorer: string, metric: string, judgings: Judging[]): void {
    let entry = this.panels.get(scorer);
    if (!entry) this.panels.set(scorer, (entry = { scorer, metric, judges: [], rows: [] }));
    const labels = new Map<string, string>();
    for (const judging of judgings) {
      const judge = judging.judge ?? "?";
      if (!entry.judges.includes(judge)) entry.judges.push(judge);
      if (judging.outcome === "verdict" && judging.value !== null) labels.set(judge, String(judging.value));
    }
    if (labels.size > 0) entry.rows.push(labels);
  }

  build(): JudgingSummary | undefined {
    if (this.counts.size === 0) return undefined;
    return {
      judges: [...this.counts.values()],
      repeats: [...this.repeats.values()].map(({ scorer, metric, model, items }) => ({
        scorer,
        metric: metric.name,
        by: { model },
        ...repeatStatistics(items, metric.kind.type === "unbounded" ? undefined : (rangeOf(metric.kind) ?? undefined)),
      })),
      position_bias: [...this.positions.values()].map(({ scorer, model, n, dependent, first, firstN }) => ({
        scorer,
        by: { model },
        n,
        order_dependent: dependent,
        share: n > 0 ? dependent / n : null,
        first_position: firstN > 0 ? first / firstN : null,
      })),
      panels: [...this.panels.values()].map(panelEntry),
    };
  }
}

function panelEntry({ scorer, metric, judges, rows }: { scorer: string; metric: string; judges: string[]; rows: Array<Map<string, string>> }): PanelEntry {
  const complete = rows.filter((labels) => judges.every((judge) => labels.has(judge)));
  const ratings = judges.map((judge) => rows.map((labels) => labels.get(judge) ?? null));
  const classes = [...new Set(rows.flatMap((labels) => [...labels.values()]))].sort();
  let dawid: PanelEntry["dawid_skene"] = null;
  if (classes.length >= 2) {
    const votes: Array<[number, number, number]> = [];
    rows.forEach((labels, item) => judges.forEach((judge, rater) => labels.has(judge) && votes.push([item, rater, classes.indexOf(labels.get(judge)!)])));
    const result = dawidSkene({ items: rows.map((_, index) => String(index)), raters: judges, classes, votes });
    dawid = {
      classes,
      priors: result.priors,
      reliability: Object.fromEntries(result.raters.map((entry) => [entry.rater, entry.reliability])),
      iterations: result.iterations,
      converged: result.converged,
    };
  }
  return {
    scorer,
    metric,
    judges,
    items: rows.length,
    complete_items: complete.length,
    fleiss_kappa: complete.length > 0 ? fleissKappa(complete.map((labels) => judges.map((judge) => labels.get(judge)!))) : null,
    pairwise: pairwiseCohen(judges, ratings),
    dawid_skene: dawid,
  };
}
