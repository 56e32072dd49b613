import { errorTypeOf } from "../../providers/errors.js";
import type { Judging } from "../../results/record.js";
import type { MetricDeclaration, Score, Scorer, ScorerContext } from "../types.js";
import { judgeOutcome } from "./judge-outcome.js";
import { JudgeInvalidError } from "./llm-judge.js";

// Two ways to judge an item more than once, both wrappers around any judge scorer (the verdict judge, a
// classifier, a pairwise judge), so no scorer needs to know about them:
//  - repeats: the same judge k times (temperature and seed as configured). The score is the first usable
//    judging — exactly what a run without repeats records, so numbers stay comparable — and every judging
//    is kept in `repeats`, from which the summary measures flips and the judging variance.
//  - a panel: several judges once each. The score aggregates them: a rate metric (0/1) by majority, a tie
//    going to the first judge listed (the panel's chair); any other metric by the mean of the judges that
//    gave one. Every judge's judging is kept in `panel`, for agreement and Dawid–Skene.

/** A score (or a failure) as one judging. */
export function judgingOf(score: Score, judge?: string): Judging {
  const judging: Judging = { value: score.value, label: score.label, outcome: judgeOutcome(score) };
  if (judge !== undefined) judging.judge = judge;
  if (score.metrics) judging.metrics = { ...score.metrics };
  if (score.error) judging.error = score.error;
  return judging;
}

function failedJudging(error: unknown, judge?: string): Judging {
  const message = (error as Error).message ?? String(error);
  return judgingOf({ value: null, label: null, raw: error instanceof JudgeInvalidError ? error.raw : null, error: message }, judge);
}

/** Adds one judging's calls, tokens and latency to the score's (so usage counts every judging). */
function addCost(total: Score, extra: Score): void {
  if (extra.calls !== undefined) total.calls = (total.calls ?? 0) + extra.calls;
  if (extra.usage) {
    const usage = total.usage ?? { input_tokens: 0, output_tokens: 0 };
    total.usage = { input_tokens: usage.input_tokens + extra.usage.input_tokens, output_tokens: usage.output_tokens + extra.usage.output_tokens };
  }
  if (typeof extra.latency_ms === "number") total.latency_ms = Math.round(((total.latency_ms ?? 0) + extra.latency_ms) * 10) / 10;
}

/** The scorer, judging each item `k` times. */
export function repeatedScorer(scorer: Scorer, k: number): Scorer {
  if (k <= 1) return scorer;
  return {
    ...scorer,
    async score(context: ScorerContext): Promise<Score> {
      const judgings: Judging[] = [];
      let first: Score | undefined;
      let firstError: unknown;
      for (let repeat = 0; repeat < k; repeat++) {
        try {
          const score = await scorer.score(context);
          judgings.push(judgingOf(score));
          if (!first) first = { ...score };
          else addCost(first, score);
        } catch (error) {
          if (errorTypeOf(error) === "cancelled") throw error;
          firstError ??= error;
          judgings.push(failedJudging(error));
        }
      }
      if (!first) {
        // Every judging failed: the item's error is the first one, and the judgings stay on the error.
        const failure = firstError instanceof Error ? firstError : new Error(String(firstError));
        throw Object.assign(failure, { judged: { repeats: judgings } });
      }
      return { ...first, repeats: judgings };
    },
  };
}

export interface PanelMember {
  judge: string;
  scorer: Scorer;
}

/** One metric over the panel's judgings: majority for a rate (a tie: the first judge's value), else the mean. */
export function aggregate(metric: Pick<MetricDeclaration, "kind">, values: Array<number | null>): number | null {
  const given = values.filter((value): value is number => value !== null);
  if (given.length === 0) return null;
  if (metric.kind.type !== "rate") return given.reduce((sum, value) => sum + value, 0) / given.length;
  const ones = given.filter((value) => value === 1).length;
  const zeros = given.length - ones;
  return ones > zeros ? 1 : zeros > ones ? 0 : given[0]!;
}

/** The members (each the same scorer, asking its own judge) as one scorer whose score aggregates theirs. */
export function panelScorer(members: PanelMember[]): Scorer {
  const [chair] = members;
  if (!chair || members.length < 2) throw new Error("a panel needs at least two judges");
  const declaration = chair.scorer.declaration;
  return {
    ...chair.scorer,
    model: `panel(${members.map((member) => member.judge).join(",")})`,
    async score(context: ScorerContext): Promise<Score> {
      const scores: Array<Score | undefined> = [];
      const judgings: Judging[] = [];
      let firstError: unknown;
      for (const member of members) {
        try {
          const score = await member.scorer.score(context);
          scores.push(score.error ? undefined : score);
          judgings.push(judgingOf(score, member.judge));
        } catch (error) {
          if (errorTypeOf(error) === "cancelled") throw error;
          firstError ??= error;
          scores.push(undefined);
          judgings.push(failedJudging(error, member.judge));
        }
      }
      const usable = scores.filter((score): score is Score => score !== undefined);
      if (usable.length === 0) {
        const failure = firstError instanceof Error ? firstError : new Error("no judge of the panel gave a verdict");
        throw Object.assign(failure, { judged: { panel: judgings } });
      }
      const [primary, ...others] = declaration.metrics;
      const value = aggregate(
        primary,
        scores.map((score) => score?.value ?? null),
      );
      const metrics: Record<string, number | null> = {};
      for (const metric of others)
        metrics[metric.name] = aggregate(
          metric,
          scores.map((score) => score?.metrics?.[metric.name] ?? null),
        );
      // The label of the first judge whose value is the panel's (none for a mean no judge gave).
      const labelled = usable.find((score) => score.value === value);
      const result: Score = {
        value,
        label: labelled?.label ?? null,
        raw: JSON.stringify(usable.map((score) => score.raw)),
        error: null,
        metrics,
        model: `panel(${members.map((member) => member.judge).join(",")})`,
        panel: judgings,
      };
      for (const score of usable) addCost(result, score);
      return result;
    },
  };
}

/** The scorer asking `call` as its judge (for a panel member of a scorer that reads services.judge). */
export function withJudgeCall(scorer: Scorer, judge: string, call: NonNullable<ScorerContext["services"]["judge"]>): Scorer {
  return { ...scorer, model: judge, score: (context) => scorer.score({ ...context, services: { ...context.services, judge: call } }) };
}
