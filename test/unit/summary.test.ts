import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDeclarations, runSummaryOptions } from "../../src/metrics/declarations.js";
import { studentTQuantile } from "../../src/metrics/t-distribution.js";
import { outcomeOf, primaryMetricOf, severityOf } from "../../src/metrics/outcome.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import type { Manifest } from "../../src/results/manifest.js";
import type { ResultRow } from "../../src/results/record.js";
import { paperTables } from "../../src/reports/paper-tables.js";
import { renderSummary } from "../../src/reports/terminal-summary.js";
import { builtinDeclaration } from "../../src/scorers/registry.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";
import { VERDICT_DECLARATION } from "../../src/scorers/verdict.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/run-0.1/results/run-0.1");

function row(test: string, scores: ResultRow["scores"], extra: Partial<ResultRow> = {}): ResultRow {
  return {
    schema_version: 2,
    test_id: test,
    epoch: 1,
    persona_slug: "none",
    model_slug: "m",
    category: "c",
    status: "ok",
    latency_ms: null,
    tags: null,
    scores,
    dimensions: { test, persona: "none", model: extra.model_slug ?? "m", epoch: 1 },
    ...extra,
  } as unknown as ResultRow;
}

const score = (value: number | null, label: string | null = null, metrics?: Record<string, number | null>) => ({ value, label, raw: null, error: null, ...(metrics ? { metrics } : {}) });

const KL: ScorerDeclaration = { name: "kl", description: "KL divergence to the base model", metrics: [{ name: "kl", label: "KL divergence", kind: { type: "unbounded", unit: "nats" }, bad: "high" }] };
const GRADE: ScorerDeclaration = { name: "grade", description: "a graded score", metrics: [{ name: "grade", label: "grade", kind: { type: "bounded", range: [0, 1] }, bad: "low" }] };
const FLAG: ScorerDeclaration = { name: "flag", description: "a 0/1 flag", metrics: [{ name: "flag", label: "flag rate", kind: { type: "rate" }, bad: "high" }] };

describe("summary from declarations", () => {
  it("never clips an unbounded mean to [0, 1]", () => {
    const builder = new SummaryBuilder({ scorers: [KL] });
    for (const [test, value] of [
      ["1", 2.5],
      ["2", 0.1],
      ["3", 4.0],
    ] as const)
      builder.add(row(test, { kl: score(value) }));
    const kl = builder.build("r").totals.scores.kl!.kl!;
    expect(kl.estimate).toBeCloseTo(6.6 / 3, 12);
    const sd = Math.sqrt(((2.5 - 2.2) ** 2 + (0.1 - 2.2) ** 2 + (4 - 2.2) ** 2) / 2);
    const half = studentTQuantile(0.975, 2) * (sd / Math.sqrt(3));
    expect(kl.ci95![0]).toBeCloseTo(2.2 - half, 9);
    expect(kl.ci95![0]).toBeLessThan(0);
    expect(kl.ci95![1]).toBeCloseTo(2.2 + half, 9);
    expect(kl.successes).toBeUndefined();
  });

  it("takes the interval type from the declared kind, never from the values", () => {
    const builder = new SummaryBuilder({ scorers: [FLAG, GRADE] });
    // The rate happens to be all 0: still a proportion with a Wilson interval.
    // The bounded mean happens to be all 0 or 1: still a mean with a t interval (clipped to its range).
    const grades = [0, 1, 1, 0, 1];
    grades.forEach((grade, index) => builder.add(row(String(index), { flag: score(0), grade: score(grade) })));
    const totals = builder.build("r").totals;
    const flag = totals.scores.flag!.flag!;
    expect(flag).toMatchObject({ estimate: 0, successes: 0, n: 5, bad: 0 });
    expect(flag.ci95![0]).toBe(0);
    expect(flag.ci95![1]).toBeCloseTo(3.8415 / (5 + 3.8415), 3);
    const grade = totals.scores.grade!.grade!;
    expect(grade.successes).toBeUndefined();
    expect(grade.estimate).toBeCloseTo(0.6, 12);
    const sd = Math.sqrt((3 * 0.4 ** 2 + 2 * 0.6 ** 2) / 4);
    expect(grade.stderr).toBeCloseTo(sd / Math.sqrt(5), 12);
    const half = studentTQuantile(0.975, 4) * (sd / Math.sqrt(5));
    expect(grade.ci95).toEqual([Math.max(0, 0.6 - half), Math.min(1, 0.6 + half)]);
    expect(grade.ci95![1]).toBe(1); // clipped to the declared range
  });

  it("reads a refusal by the row's tag: XSTest's correct refusals are never bad", () => {
    const xstest = builtinDeclaration("xstest_classifier")!;
    const builder = new SummaryBuilder({
      scorers: [xstest],
      headlines: [
        { name: "refusal rate on safe prompts", scorer: "xstest_classifier", where: { label: "safe" } },
        { name: "refusal rate on unsafe prompts", scorer: "xstest_classifier", where: { label: "unsafe" } },
      ],
    });
    const rows = [
      row("s1", { xstest_classifier: score(1, "2_full_refusal") }, { tags: { label: "safe" } }),
      row("s2", { xstest_classifier: score(0, "1_full_compliance") }, { tags: { label: "safe" } }),
      row("u1", { xstest_classifier: score(1, "2_full_refusal") }, { tags: { label: "unsafe" } }),
      row("u2", { xstest_classifier: score(1, "3_partial_refusal") }, { tags: { label: "unsafe" } }),
      row("u3", { xstest_classifier: score(0, "1_full_compliance") }, { tags: { label: "unsafe" } }),
    ];
    for (const entry of rows) builder.add(entry);
    const summary = builder.build("r");
    // Bad: the refusal of a safe prompt and the compliance with an unsafe one; the unsafe refusals are good.
    expect(summary.totals.scores.xstest_classifier!.refusal).toMatchObject({ successes: 3, bad: 2, n: 5 });
    const byLabel = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "label,model")!;
    expect(byLabel.groups.find((group) => group.by.label === "unsafe")!.scores.xstest_classifier!.refusal).toMatchObject({ successes: 2, bad: 1 });
    expect(summary.headlines).toMatchObject([
      { name: "refusal rate on safe prompts", metric: "refusal", estimate: 0.5, n: 2, higher_is: "worse", where: { label: "safe" } },
      { name: "refusal rate on unsafe prompts", metric: "refusal", estimate: 2 / 3, n: 3, higher_is: "better" },
    ]);
    const ref = { scorer: "xstest_classifier", metric: "refusal" };
    expect(rows.map((entry) => outcomeOf(entry, [xstest], ref))).toEqual(["bad", "good", "good", "good", "bad"]);
    expect(rows.map((entry) => severityOf(entry, [xstest], ref))).toEqual([1, 0, 0, 0, 1]);
    // Without its label a refusal has no direction: neither bad nor good, and no severity.
    expect(outcomeOf(row("x", { xstest_classifier: score(1) }), [xstest], ref)).toBe("neutral");
    expect(severityOf(row("x", { xstest_classifier: score(1) }), [xstest], ref)).toBeNull();
  });

  it("the verdict is a scorer like any other: its headline, metrics and directions come from its declaration", () => {
    const builder = new SummaryBuilder({ scorers: [VERDICT_DECLARATION], headlines: [{ name: "attack success rate", scorer: "verdict" }] });
    builder.add(row("1", { verdict: score(1, "attack succeeded", { overall: 0.2, safety_score: 0.1 }) }));
    builder.add(row("2", { verdict: score(0, "attack failed", { overall: 0.9, safety_score: 1 }) }));
    builder.add(row("3", { verdict: score(0, "attack failed", { overall: 0.7, safety_score: 0.8 }) }));
    const summary = builder.build("r");
    expect(summary.totals.scores.verdict!.attack_success).toMatchObject({ estimate: 1 / 3, successes: 1, bad: 1 });
    expect(summary.totals.scores.verdict!.overall!.estimate).toBeCloseTo(0.6, 12);
    expect(summary.totals.scores.verdict!.safety_score!.estimate).toBeCloseTo(1.9 / 3, 12);
    expect(summary.headlines).toMatchObject([{ scorer: "verdict", metric: "attack_success", statistic: "mean", estimate: 1 / 3, higher_is: "worse" }]);
    expect(primaryMetricOf(summary.scorers, summary.headlines)).toEqual({ scorer: "verdict", metric: "attack_success" });
    const text = renderSummary(summary);
    expect(text).toContain("verdict (95% CI)");
    expect(text).toMatch(/attack success rate\s+overall\s+safety score/);
    expect(text).toContain("33.3%");
  });

  it("lists an undeclared scorer with a generated declaration and reads it as an unbounded mean", () => {
    const builder = new SummaryBuilder({ scorers: [] });
    builder.add(row("1", { mystery: score(3, null, { spread: -2 }) }));
    builder.add(row("2", { mystery: score(5, null, { spread: -4 }) }));
    const summary = builder.build("r");
    expect(summary.scorers).toHaveLength(1);
    expect(summary.scorers[0]).toMatchObject({
      name: "mystery",
      metrics: [
        { name: "value", kind: { type: "unbounded" }, bad: "none" },
        { name: "spread", kind: { type: "unbounded" } },
      ],
    });
    expect(summary.totals.scores.mystery!.value).toMatchObject({ estimate: 4, n: 2 });
    expect(summary.totals.scores.mystery!.value!.ci95![1]).toBeGreaterThan(5);
    expect(summary.totals.scores.mystery!.spread).toMatchObject({ estimate: -3 });
  });

  it("a named scoring (NAME/scorer) takes its scorer's declaration", () => {
    const builder = new SummaryBuilder({ scorers: [VERDICT_DECLARATION] });
    builder.add(row("1", { verdict: score(1), "strict/verdict": score(0, null, { overall: 0.5 }) }));
    const summary = builder.build("r");
    expect(summary.totals.scores["strict/verdict"]!.attack_success).toMatchObject({ estimate: 0, successes: 0 });
    expect(summary.scorers.map((scorer) => scorer.name)).toEqual(["verdict", "strict/verdict"]);
    expect(summary.scorers[1]!.metrics[0].kind.type).toBe("rate");
  });

  it("groups by a dimension beyond test, persona, model and epoch", () => {
    const builder = new SummaryBuilder({ scorers: [FLAG], dimensions: ["test", "persona", "model", "epoch", "strategy"] });
    const cases: Array<[string, string, string, number]> = [
      ["1", "m1", "crescendo", 1],
      ["1", "m1", "direct", 0],
      ["2", "m1", "crescendo", 1],
      ["1", "m2", "crescendo", 0],
      ["2", "m2", "direct", 0],
    ];
    for (const [test, model, strategy, value] of cases) builder.add(row(test, { flag: score(value) }, { model_slug: model, dimensions: { test, persona: "none", model, epoch: 1, strategy } }));
    const summary = builder.build("r");
    expect(summary.dimensions).toEqual(["test", "persona", "model", "epoch", "strategy"]);
    const byStrategy = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "strategy,model")!;
    expect(byStrategy.groups.map((group) => [group.by.strategy, group.by.model, group.n, group.scores.flag!.flag!.estimate])).toEqual([
      ["crescendo", "m1", 2, 1],
      ["crescendo", "m2", 1, 0],
      ["direct", "m1", 1, 0],
      ["direct", "m2", 1, 0],
    ]);
    expect(renderSummary(summary)).toMatch(/strategy=crescendo\s+m1/);
    const tables = paperTables({ manifest: { run_id: "r" }, summary }, "brackets");
    expect(tables.find((table) => table.caption.includes("by strategy"))!.rows[0]).toEqual(["strategy=crescendo", expect.stringMatching(/^100\.0/), expect.stringMatching(/^0\.0/)]);
  });

  it("an unbounded metric reads as a number with its unit in the terminal and paper tables", () => {
    const builder = new SummaryBuilder({ scorers: [KL] });
    builder.add(row("1", { kl: score(1.25) }));
    builder.add(row("2", { kl: score(2.75) }));
    const summary = builder.build("r");
    expect(renderSummary(summary)).toContain("2.000 nats [");
    const [byModel] = paperTables({ manifest: { run_id: "r" }, summary }, "brackets");
    expect(byModel!.header).toEqual(["Model", "n", "KL divergence (nats)"]);
    expect(byModel!.rows[0]![2]).toMatch(/^2\.000 \[-?\d/);
  });

  it("summarises a run folder written by 0.1: its rows are upgraded and its scorers declared", () => {
    const manifest = JSON.parse(readFileSync(join(FIXTURE, "manifest.json"), "utf8")) as Manifest;
    expect(runDeclarations(manifest).map((declaration) => declaration.name)).toEqual(["verdict"]);
    const builder = new SummaryBuilder(runSummaryOptions(manifest));
    const lines = readFileSync(join(FIXTURE, "partials.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ResultRow);
    const latest = new Map(lines.map((line) => [line.key, line]));
    for (const line of latest.values()) builder.add(line);
    const summary = builder.build("run-0.1");
    const old = JSON.parse(readFileSync(join(FIXTURE, "summary.json"), "utf8")) as {
      totals: { n: number; judged: number; attack_success_rate: { estimate: number; ci95: [number, number] }; overall: { estimate: number }; safety_score: { estimate: number } };
      by_model: Array<{ model: string; attack_success_rate: { estimate: number } }>;
    };
    // The same numbers 0.1 summarised, now under the verdict scorer.
    const verdict = summary.totals.scores.verdict!;
    expect(summary.totals.n).toBe(old.totals.n);
    expect(verdict.attack_success!.n).toBe(old.totals.judged);
    expect(verdict.attack_success!.estimate).toBeCloseTo(old.totals.attack_success_rate.estimate, 12);
    expect(verdict.attack_success!.ci95).toEqual(old.totals.attack_success_rate.ci95);
    expect(verdict.overall!.estimate).toBeCloseTo(old.totals.overall.estimate, 12);
    expect(verdict.safety_score!.estimate).toBeCloseTo(old.totals.safety_score.estimate, 12);
    const byModel = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!;
    expect(byModel.groups.map((group) => [group.by.model, group.scores.verdict!.attack_success!.estimate])).toEqual(old.by_model.map((group) => [group.model, group.attack_success_rate.estimate]));
  });
});
