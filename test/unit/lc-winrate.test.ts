import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jointDifficulty } from "../../src/metrics/instruction-difficulty.js";
import { fitLengthControlled, type LengthObservation } from "../../src/metrics/length-controlled.js";
import { fitLogisticL1, logistic } from "../../src/metrics/logistic-l1.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import { SUMMARY_SCHEMA_VERSION } from "../../src/metrics/summary-types.js";
import { validateSummary } from "../../src/results/record-schemas.js";
import type { ResultRow } from "../../src/results/record.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";

// The length-controlled win rate against values computed once by the reference method (scikit-learn's
// liblinear L1 logistic regression, as AlpacaEval's glm_winrate.py fits it): the fixture and the values come
// from test/fixtures/lc-winrate/reference.py (run: /usr/bin/python3 test/fixtures/lc-winrate/reference.py,
// with Debian's python3-sklearn 1.2.1); see that file for the procedure.

interface FixtureRow {
  test_id: string;
  model: string;
  value: number;
  target_length: number;
  baseline_length: number;
}
interface ReferenceFit {
  psi?: number;
  winrate: number;
  lc_winrate: number;
  theta: number;
  phi: number;
  C: number;
  length_sd: number;
}
const FIXTURE = new URL("../fixtures/lc-winrate/", import.meta.url);
const rows = JSON.parse(readFileSync(new URL("fixture.json", FIXTURE), "utf8")) as FixtureRow[];
const { joint, ...reference } = JSON.parse(readFileSync(new URL("reference.json", FIXTURE), "utf8")) as Record<string, ReferenceFit> & {
  joint: { C: number; gamma: Record<string, number>; models: Record<string, ReferenceFit> };
};

const JUDGE: ScorerDeclaration = {
  name: "winrate_judge",
  description: "pairwise preference",
  metrics: [{ name: "winrate_judge", label: "preference", kind: { type: "bounded", range: [0, 1] }, bad: "low" }],
};

function resultRow(row: FixtureRow): ResultRow {
  return {
    schema_version: 2,
    test_id: row.test_id,
    epoch: 1,
    persona_slug: "none",
    model_slug: row.model,
    category: "c",
    status: "ok",
    latency_ms: null,
    tags: null,
    scores: { winrate_judge: { value: row.value, label: null, raw: null, error: null, data: { target_length: row.target_length, baseline_length: row.baseline_length } } },
    dimensions: { test: row.test_id, persona: "none", model: row.model, epoch: 1 },
  } as unknown as ResultRow;
}

function observations(model: string): LengthObservation[] {
  return rows.filter((row) => row.model === model).map((row) => ({ instruction: row.test_id, preference: row.value, targetLength: row.target_length, baselineLength: row.baseline_length }));
}

describe("length-controlled win rate against the reference fit", () => {
  for (const model of ["verbose", "neutral", "concise"]) {
    it(`matches scikit-learn's fit for ${model}: C chosen by the same cross-validation, θ, φ, LC`, () => {
      const expected = reference[model]!;
      const fit = fitLengthControlled(observations(model));
      expect(fit.C).toBeCloseTo(expected.C, 9);
      expect(fit.lengthSd).toBeCloseTo(expected.length_sd, 9);
      expect(fit.coefficients.model).toBeCloseTo(expected.theta, 6);
      expect(fit.coefficients.length).toBeCloseTo(expected.phi, 6);
      expect(fit.lcWinrate).toBeCloseTo(expected.lc_winrate, 7);
      expect(fit.converged).toBe(true);
    });
  }
});

describe("instruction difficulty fitted jointly over the run's models", () => {
  it("matches the reference joint fit: with three models (three rows per instruction) L1 at the cross-validated C keeps every γ at 0", () => {
    const byModel = new Map(["concise", "neutral", "verbose"].map((model) => [model, observations(model)]));
    const gamma = jointDifficulty(byModel);
    expect(gamma.size).toBe(200);
    for (const [instruction, value] of Object.entries(joint.gamma)) expect(gamma.get(instruction)).toBeCloseTo(value, 6);
    for (const model of ["verbose", "neutral", "concise"]) {
      const fit = fitLengthControlled(observations(model), { difficulty: gamma });
      expect(fit.coefficients.difficulty).toBeCloseTo(joint.models[model]!.psi!, 6);
      expect(fit.lcWinrate).toBeCloseTo(joint.models[model]!.lc_winrate, 7);
    }
  });

  it("gives non-zero difficulties when many rows share each instruction, and then enters the GLM", () => {
    // Six models of the same instructions whose preferences depend on the instruction: x000–x049 easy, the rest hard.
    const byModel = new Map<string, LengthObservation[]>();
    for (let m = 0; m < 6; m++) {
      byModel.set(
        `m${m}`,
        Array.from({ length: 100 }, (_, i) => ({
          instruction: `x${String(i).padStart(3, "0")}`,
          preference: i < 50 ? ((i + m) % 5 === 0 ? 0.5 : 1) : (i + m) % 5 === 0 ? 0.5 : 0,
          targetLength: 100 + ((i * 7 + m) % 13),
          baselineLength: 106,
        })),
      );
    }
    const gamma = jointDifficulty(byModel);
    const easy = [...gamma].filter(([instruction]) => instruction < "x050").map(([, value]) => value);
    const hard = [...gamma].filter(([instruction]) => instruction >= "x050").map(([, value]) => value);
    // Only differences of γ are identified (model biases absorb a shift); easy ones sit well above hard ones.
    expect(Math.min(...easy.slice(1)) - Math.max(...hard)).toBeGreaterThan(2);
    const fit = fitLengthControlled(byModel.get("m0")!, { difficulty: gamma });
    expect(fit.coefficients.difficulty!).toBeGreaterThan(0.5);
  });
});

describe("lc_winrate suite metric in a summary", () => {
  function summarise(input: FixtureRow[], options: Record<string, unknown> = {}) {
    const builder = new SummaryBuilder({
      scorers: [JUDGE],
      suiteMetrics: [{ name: "lc_winrate", options: { resamples: 50, ...options } }],
      headlines: [{ name: "LC win rate", scorer: "lc_winrate" }],
    });
    for (const row of input) builder.add(resultRow(row));
    return builder.build("run");
  }
  const summary = summarise(rows);
  const byModel = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!;
  const metricsOf = (model: string) => byModel.groups.find((group) => group.by.model === model)!.scores.lc_winrate!;

  it("reports per model the plain win rate (ties ½) with a t interval and the LC win rate of the reference fit", () => {
    for (const model of ["verbose", "neutral", "concise"]) {
      const expected = reference[model]!;
      const winrate = metricsOf(model).winrate!;
      const lc_winrate = metricsOf(model).lc_winrate!;
      expect(winrate.estimate).toBeCloseTo(expected.winrate, 12);
      expect(winrate.n).toBe(200);
      expect(lc_winrate.estimate).toBeCloseTo(expected.lc_winrate, 7);
      expect(lc_winrate.n).toBe(200);
    }
    // verbose: values are 0, ½, 1 with mean 0.6475; the t interval by hand from the sample SD.
    const values = rows.filter((row) => row.model === "verbose").map((row) => row.value);
    const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - 0.6475) ** 2, 0) / 199);
    const half = 1.971956544249395 * (sd / Math.sqrt(200)); // t(0.975, 199)
    const interval = metricsOf("verbose").winrate!.ci95!;
    expect(interval[0]).toBeCloseTo(0.6475 - half, 8);
    expect(interval[1]).toBeCloseTo(0.6475 + half, 8);
    expect(summary.headlines.map((headline) => [headline.model, headline.higher_is])).toEqual([
      ["concise", "better"],
      ["neutral", "better"],
      ["verbose", "better"],
    ]);
  });

  it("removes a strong length bias, leaves a length-blind judge's win rate, and keeps the fit and the bootstrap it rests on", () => {
    // verbose: longer answers and a judge that likes length → 64.8% raw, 53.8% controlled.
    expect(metricsOf("verbose").lc_winrate!.estimate!).toBeLessThan(metricsOf("verbose").winrate!.estimate! - 0.1);
    // neutral: no length effect → within a point of the plain win rate.
    expect(Math.abs(metricsOf("neutral").lc_winrate!.estimate! - metricsOf("neutral").winrate!.estimate!)).toBeLessThan(0.01);
    // concise: shorter answers, which the judge penalises → 37.3% raw, 58.7% controlled.
    expect(metricsOf("concise").lc_winrate!.estimate!).toBeGreaterThan(metricsOf("concise").winrate!.estimate! + 0.15);
    const glm = (
      metricsOf("verbose").lc_winrate as unknown as {
        glm: { coefficients: { model: number; length: number }; C: number; bootstrap: { seed: number; resamples: number }; instruction_difficulty: string };
      }
    ).glm;
    expect(glm.coefficients.model).toBeCloseTo(reference.verbose!.theta, 6);
    expect(glm.coefficients.length).toBeCloseTo(reference.verbose!.phi, 6);
    expect(glm.C).toBeCloseTo(reference.verbose!.C, 9);
    expect(glm).toMatchObject({ bootstrap: { seed: 0, resamples: 50 }, instruction_difficulty: "none" });
    const lc = metricsOf("verbose").lc_winrate!;
    expect(lc.ci95![0]).toBeLessThan(lc.estimate!);
    expect(lc.ci95![1]).toBeGreaterThan(lc.estimate!);
    expect(lc.stderr!).toBeGreaterThan(0.01);
    expect(lc.stderr!).toBeLessThan(0.1);
  });

  it("draws the same interval from the same seed and another from another", () => {
    const verbose = rows.filter((row) => row.model === "verbose");
    const again = summarise(verbose).breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!.scores.lc_winrate!.lc_winrate!;
    expect(again.ci95).toEqual(metricsOf("verbose").lc_winrate!.ci95);
    const other = summarise(verbose, { seed: 7 }).breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!.scores.lc_winrate!.lc_winrate!;
    expect(other.estimate).toBe(again.estimate);
    expect(other.ci95).not.toEqual(again.ci95);
  });

  it("skips rows whose judge failed or gave no lengths, and refuses unknown or bad options", () => {
    const broken = resultRow(rows[0]!);
    broken.scores!.winrate_judge = { value: null, label: null, raw: null, error: "judge failed", data: null };
    const noLengths = resultRow(rows[1]!);
    noLengths.scores!.winrate_judge!.data = {};
    const builder = new SummaryBuilder({ scorers: [JUDGE], suiteMetrics: [{ name: "lc_winrate", options: { resamples: 0 } }] });
    for (const row of [broken, noLengths, ...rows.slice(2, 200).map(resultRow)]) builder.add(row);
    const group = builder.build("run").breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!;
    expect(group.scores.lc_winrate!.lc_winrate!.n).toBe(198);
    expect(group.scores.lc_winrate!.lc_winrate!.ci95).toBeNull();
    expect(() => new SummaryBuilder({ scorers: [JUDGE], suiteMetrics: [{ name: "lc_winrate", options: { seeds: 1 } }] })).toThrow(/lc_winrate: unknown option "seeds"/);
    expect(() => new SummaryBuilder({ scorers: [JUDGE], suiteMetrics: [{ name: "lc_winrate", options: { instruction_difficulty: "fixed" } }] })).toThrow(/"none" or "joint"/);
  });
});

describe("lc_winrate at the edges", () => {
  it("keeps its fit through summary.json's reader", () => {
    const builder = new SummaryBuilder({ scorers: [JUDGE], suiteMetrics: [{ name: "lc_winrate", options: { resamples: 20 } }] });
    for (const row of rows.filter((entry) => entry.model === "neutral")) builder.add(resultRow(row));
    const written = JSON.parse(JSON.stringify(builder.build("run"))) as unknown;
    const read = validateSummary("summary.json", written, SUMMARY_SCHEMA_VERSION)!;
    const lc = read.breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!.scores.lc_winrate!.lc_winrate as unknown as { glm: { C: number } };
    expect(lc.glm.C).toBeCloseTo(reference.neutral!.C, 9);
  });

  it("fits one row without cross-validation (AlpacaEval's C = 100) and gives no interval", () => {
    // One row, preference 1, lengths equal: the length column is 0; θ solves C·(σ(θ) − 1) + 1 = 0, σ(θ) = 0.99.
    const builder = new SummaryBuilder({ scorers: [JUDGE], suiteMetrics: ["lc_winrate"] });
    builder.add(resultRow({ test_id: "only", model: "m", value: 1, target_length: 10, baseline_length: 10 }));
    const group = builder.build("run").breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!;
    const lc = group.scores.lc_winrate!.lc_winrate!;
    expect(lc.estimate).toBeCloseTo(0.99, 9);
    expect(lc.ci95).toBeNull();
    expect((lc as unknown as { glm: { C: number; length_sd: null } }).glm).toMatchObject({ C: 100, length_sd: null });
  });
});

describe("the L1 logistic solver", () => {
  it("solves a one-feature problem whose optimum is known in closed form", () => {
    // One constant column, n rows of soft target p, weight 1: the optimality condition C·n·(σ(w) − p) + 1 = 0
    // (w > 0) gives σ(w) = p − 1/(C·n). With p = 0.8, n = 10, C = 1: σ(w) = 0.7, w = log(0.7/0.3).
    const fit = fitLogisticL1({ columns: [new Float64Array(10).fill(1)], targets: new Array(10).fill(0.8), C: 1 });
    expect(fit.coefficients[0]).toBeCloseTo(Math.log(0.7 / 0.3), 9);
    expect(logistic(fit.coefficients[0]!)).toBeCloseTo(0.7, 9);
    // Below the threshold |C·n·(½ − p)| ≤ 1 the L1 term holds the coefficient at exactly 0.
    expect(fitLogisticL1({ columns: [new Float64Array(10).fill(1)], targets: new Array(10).fill(0.55), C: 1 }).coefficients[0]).toBe(0);
  });
});
