import { describe, expect, it } from "vitest";
import { proportion } from "../../src/metrics/intervals.js";
import { registerSuiteMetric, suiteMetricNamed } from "../../src/metrics/suite-metrics/registry.js";
import type { SuiteMetricGroup } from "../../src/metrics/suite-metrics/types.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import type { ResultRow } from "../../src/results/record.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";

// A suite metric that is not a mean of row scores: the share of a model's rows labelled "a" among those
// labelled "a" or "b" (rows labelled otherwise do not count), per model and per category.
const PICK: ScorerDeclaration = { name: "pick", description: "the label", metrics: [{ name: "pick", label: "pick", kind: { type: "rate" }, bad: "none" }] };

registerSuiteMetric({
  declaration: { name: "a_share", description: "share of a among a and b", metrics: [{ name: "share", label: "a share", kind: { type: "rate" }, bad: "low" }] },
  create(options) {
    if (options.unknown !== undefined) throw new Error("unknown option");
    const counts = new Map<string, { a: number; ab: number; by: Record<string, string> }>();
    const count = (by: Record<string, string>, label: string | null) => {
      const key = JSON.stringify(by);
      let entry = counts.get(key);
      if (!entry) counts.set(key, (entry = { a: 0, ab: 0, by }));
      if (label === "a" || label === "b") entry.ab++;
      if (label === "a") entry.a++;
    };
    return {
      add(row: ResultRow) {
        const label = row.scores?.pick?.label ?? null;
        count({ model: row.model_slug }, label);
        count({ category: row.category, model: row.model_slug }, label);
        if (row.tags?.side) count({ side: row.tags.side, model: row.model_slug }, label);
      },
      results(): SuiteMetricGroup[] {
        return [...counts.values()].map(({ a, ab, by }) => ({ by, metrics: { share: proportion(a, ab) } }));
      },
    };
  },
});

function row(test: string, model: string, category: string, label: string, side?: string): ResultRow {
  return {
    schema_version: 2,
    test_id: test,
    epoch: 1,
    persona_slug: "none",
    model_slug: model,
    category,
    status: "ok",
    latency_ms: null,
    tags: side ? { side } : null,
    scores: { pick: { value: 1, label, raw: null, error: null } },
    dimensions: { test, persona: "none", model, epoch: 1 },
  } as unknown as ResultRow;
}

describe("suite metrics", () => {
  const rows = [
    row("1", "m1", "x", "a", "left"),
    row("2", "m1", "x", "b", "left"),
    row("3", "m1", "y", "a", "right"),
    row("4", "m1", "y", "other", "right"),
    row("1", "m2", "x", "b", "left"),
    row("2", "m2", "x", "b", "left"),
    row("3", "m2", "y", "a", "right"),
    row("4", "m2", "y", "a", "right"),
  ];
  function build() {
    const builder = new SummaryBuilder({
      scorers: [PICK],
      suiteMetrics: ["a_share"],
      headlines: [
        { name: "a share", scorer: "a_share" },
        { name: "a share in y", scorer: "a_share", metric: "share", where: { category: "y" } },
      ],
      groupBy: ["side"],
    });
    for (const entry of rows) builder.add(entry);
    return builder.build("run");
  }

  it("puts its values into the summary's groups beside the scorers' and declares itself", () => {
    const summary = build();
    expect(summary.scorers.map((declaration) => declaration.name)).toEqual(["pick", "a_share"]);
    const byModel = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!;
    const m1 = byModel.groups.find((group) => group.by.model === "m1")!;
    // m1: a, b, a, other → 2 of 3.
    expect(m1.scores.a_share!.share!.estimate).toBeCloseTo(2 / 3, 12);
    expect(m1.scores.a_share!.share!.n).toBe(3);
    expect(m1.scores.pick!.pick!.n).toBe(4);
    const byCategory = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "category,model")!;
    expect(byCategory.groups.find((group) => group.by.category === "x" && group.by.model === "m2")!.scores.a_share!.share!.estimate).toBe(0);
    const bySide = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "side,model")!;
    expect(bySide.groups.find((group) => group.by.side === "right" && group.by.model === "m2")!.scores.a_share!.share!.estimate).toBe(1);
  });

  it("makes headlines of it, overall and where a group is named, with the declared direction", () => {
    const summary = build();
    const overall = summary.headlines.filter((headline) => headline.name === "a share");
    expect(overall.map((headline) => [headline.model, headline.estimate])).toEqual([
      ["m1", 2 / 3],
      ["m2", 2 / 4],
    ]);
    expect(overall[0]!.higher_is).toBe("better");
    const inY = summary.headlines.filter((headline) => headline.name === "a share in y");
    expect(inY.map((headline) => [headline.model, headline.estimate])).toEqual([
      ["m1", 1],
      ["m2", 1],
    ]);
  });

  it("refuses an unknown name with the nearest one, and bad options when created", () => {
    expect(() => suiteMetricNamed("a_shar")).toThrow(/unknown suite metric "a_shar" \(did you mean "a_share"\?\)/);
    expect(() => new SummaryBuilder({ scorers: [PICK], suiteMetrics: ["nope"] })).toThrow(/unknown suite metric "nope"/);
    expect(() => new SummaryBuilder({ scorers: [PICK], suiteMetrics: [{ name: "a_share", options: { unknown: 1 } }] })).toThrow(/unknown option/);
  });
});
