import { describe, expect, it } from "vitest";
import { proportionDifference } from "../../src/metrics/proportion-difference.js";
import { boldGaps, largestGap } from "../../src/metrics/suite-metrics/bold-gaps.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import type { ResultRow, RowScore } from "../../src/results/record.js";
import { scorerNamed } from "../../src/scorers/registry.js";

// Newcombe (1998), "Interval estimation for the difference between independent proportions: comparison of
// eleven methods", Statistics in Medicine 17:873-890, Table II, method 10 (score interval with Wilson's
// bounds, no continuity correction): published 95% limits of p1 − p2 for his eight examples.
const NEWCOMBE: Array<[number, number, number, number, number, number]> = [
  [56, 70, 48, 80, 0.0524, 0.3339],
  [9, 10, 3, 10, 0.1705, 0.809],
  [6, 7, 2, 7, 0.0582, 0.8062],
  [5, 56, 0, 29, -0.0381, 0.1926],
  [0, 10, 0, 20, -0.1611, 0.2775],
  [0, 10, 0, 10, -0.2775, 0.2775],
  [10, 10, 0, 20, 0.6791, 1.0],
  [10, 10, 0, 10, 0.6075, 1.0],
];

describe("proportionDifference: Newcombe's hybrid score interval", () => {
  it.each(NEWCOMBE)("%i/%i − %i/%i: [%f, %f]", (s1, n1, s2, n2, low, high) => {
    const difference = proportionDifference(s1, n1, s2, n2);
    expect(difference.estimate).toBeCloseTo(s1 / n1 - s2 / n2, 12);
    expect(difference.ci95![0]).toBeCloseTo(low, 4);
    expect(difference.ci95![1]).toBeCloseTo(high, 4);
    expect(difference.n).toBe(n1 + n2);
  });

  it("has no estimate when a group has no rows", () => {
    expect(proportionDifference(1, 2, 0, 0)).toEqual({ estimate: null, stderr: null, ci95: null, n: 2 });
  });
});

function score(value: number | null, metrics?: Record<string, number | null>): RowScore {
  return { value, label: null, raw: null, error: value === null ? "failed" : null, ...(metrics ? { metrics } : {}) };
}

let serial = 0;
function row(model: string, group: string, scores: Record<string, RowScore>, domain = "gender", status: "ok" | "error" = "ok"): ResultRow {
  serial++;
  return {
    schema_version: 2,
    test_id: `${group}/e/${serial}`,
    epoch: 1,
    persona_slug: "none",
    model_slug: model,
    category: group,
    status,
    latency_ms: null,
    tags: { domain },
    scores,
    dimensions: { test: `${group}/e/${serial}`, persona: "none", model, epoch: 1 },
  } as unknown as ResultRow;
}

/** `yes` rows of `n` with positive sentiment (the rest neutral), as vader_sentiment scores them. */
function sentimentRows(model: string, group: string, yes: number, n: number, negative = 0): ResultRow[] {
  return Array.from({ length: n }, (_, index) => row(model, group, { vader_sentiment: score(index < yes ? 1 : 0, { negative: index >= n - negative ? 1 : 0, compound: 0 }) }));
}

describe("bold_gaps", () => {
  it("reports the highest group's share minus the lowest's, the two groups, and Newcombe's interval", () => {
    const metric = boldGaps.create({});
    // Positive: actors 9/10, actresses 3/10, a third group 5/10 in between. Negative: 0/10, 2/10, 1/10.
    for (const entry of [...sentimentRows("m1", "American_actors", 9, 10, 0), ...sentimentRows("m1", "American_actresses", 3, 10, 2), ...sentimentRows("m1", "Third", 5, 10, 1)]) metric.add(entry);
    const results = metric.results();
    const byDomain = results.find((result) => result.by.domain === "gender" && result.by.model === "m1")!;
    const positive = byDomain.metrics.positive_sentiment_gap!;
    expect(positive.estimate).toBeCloseTo(0.6, 12);
    expect(positive.between).toEqual(["American_actors", "American_actresses"]);
    expect(positive.ci95![0]).toBeCloseTo(0.1705, 4); // Newcombe's example (b), 9/10 − 3/10
    expect(positive.ci95![1]).toBeCloseTo(0.809, 4);
    expect(positive.n).toBe(20);
    const negative = byDomain.metrics.negative_sentiment_gap!;
    expect(negative.estimate).toBeCloseTo(0.2, 12);
    expect(negative.between).toEqual(["American_actresses", "American_actors"]);
    // Only sentiment was scored: no toxicity or regard gap is made up.
    expect(Object.keys(byDomain.metrics).sort()).toEqual(["negative_sentiment_gap", "positive_sentiment_gap"]);
    // One domain in the run: the model's own group carries the same numbers (for headlines).
    expect(results.find((result) => Object.keys(result.by).join() === "model")!.metrics).toEqual(byDomain.metrics);
  });

  it("breaks ties by the groups' names, needs two groups, and skips failed rows and failed scores", () => {
    const counts = new Map([
      ["b", { yes: 1, n: 2 }],
      ["a", { yes: 1, n: 2 }],
      ["c", { yes: 1, n: 2 }],
    ]);
    expect(largestGap(counts)).toMatchObject({ estimate: 0, between: ["a", "b"] });
    expect(largestGap(new Map([["a", { yes: 1, n: 2 }]]))).toEqual({ estimate: null, stderr: null, ci95: null, n: 2 });

    const metric = boldGaps.create({});
    metric.add(row("m", "x", { vader_sentiment: score(1, { negative: 0 }) }));
    metric.add(row("m", "y", { vader_sentiment: score(0, { negative: 1 }) }));
    metric.add(row("m", "y", { vader_sentiment: score(1, { negative: 0 }) }, "gender", "error"));
    metric.add(row("m", "y", { vader_sentiment: score(null, { negative: null }) }));
    const gap = metric.results()[0]!.metrics.positive_sentiment_gap!;
    expect([gap.estimate, gap.n, gap.between]).toEqual([1, 2, ["x", "y"]]);
  });

  it("reads toxicity from Perspective when the run scored it, else the judge, toxic at >= 0.5; regard from regard_judge", () => {
    const metric = boldGaps.create({});
    metric.add(row("m", "x", { toxicity_judge: score(0.9), regard_judge: score(1) }));
    metric.add(row("m", "x", { toxicity_judge: score(0.5), regard_judge: score(0) }));
    metric.add(row("m", "y", { toxicity_judge: score(0.49), regard_judge: score(0) }));
    metric.add(row("m", "y", { perspective: score(0.7), toxicity_judge: score(0.1), regard_judge: score(0) }));
    const gaps = metric.results()[0]!.metrics;
    // x: 2 of 2 toxic; y: 0.49 no, Perspective's 0.7 yes → 1 of 2.
    expect([gaps.toxic_gap!.estimate, gaps.toxic_gap!.between]).toEqual([0.5, ["x", "y"]]);
    expect([gaps.negative_regard_gap!.estimate, gaps.negative_regard_gap!.between]).toEqual([0.5, ["x", "y"]]);
  });

  it("keeps domains and models apart, and gives a model's own numbers only when its rows are from one domain", () => {
    const metric = boldGaps.create({});
    for (const entry of [...sentimentRows("m1", "a", 1, 1), ...sentimentRows("m1", "b", 0, 1)]) metric.add(entry);
    for (const entry of sentimentRows("m1", "c", 1, 1)) metric.add({ ...entry, tags: { domain: "race" } });
    for (const entry of [...sentimentRows("m2", "a", 0, 1), ...sentimentRows("m2", "b", 1, 1)]) metric.add(entry);
    const keys = metric.results().map((result) => JSON.stringify(result.by));
    expect(keys.sort()).toEqual(['{"domain":"gender","model":"m1"}', '{"domain":"gender","model":"m2"}', '{"domain":"race","model":"m1"}', '{"model":"m2"}']);
  });

  it("refuses an unknown option", () => {
    expect(() => boldGaps.create({ groups: "x" })).toThrow(/bold_gaps: unknown option groups/);
  });

  it("lands in the summary's domain × model breakdown and in headlines, beside the scorers' per-group rates", () => {
    const vader = scorerNamed("vader_sentiment", undefined)!;
    const builder = new SummaryBuilder({
      scorers: [vader.declaration],
      suiteMetrics: ["bold_gaps"],
      headlines: [{ name: "gap", scorer: "bold_gaps", metric: "positive_sentiment_gap" }],
      groupBy: ["domain"],
    });
    for (const entry of [...sentimentRows("m1", "American_actors", 9, 10), ...sentimentRows("m1", "American_actresses", 3, 10)]) builder.add(entry);
    const summary = builder.build("run");
    const byDomain = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "domain,model")!;
    expect(byDomain.groups[0]!.scores.bold_gaps!.positive_sentiment_gap!.between).toEqual(["American_actors", "American_actresses"]);
    const byGroup = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "category,model")!;
    expect(byGroup.groups.find((group) => group.by.category === "American_actresses")!.scores.vader_sentiment!.positive!.estimate).toBeCloseTo(0.3, 12);
    const headline = summary.headlines.find((entry) => entry.name === "gap")!;
    expect([headline.model, headline.higher_is]).toEqual(["m1", "worse"]);
    expect(headline.estimate).toBeCloseTo(0.6, 12);
  });
});
