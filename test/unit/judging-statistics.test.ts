import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { dawidSkene } from "../../src/metrics/judging/dawid-skene.js";
import { judgeOutcome } from "../../src/scorers/judge/judge-outcome.js";
import { cohenKappa, fleissKappa, pairwiseCohen } from "../../src/metrics/judging/rater-agreement.js";
import { pairAgreement, repeatStatistics } from "../../src/metrics/judging/repeat-variance.js";
import { correctedRate, roganGladen } from "../../src/metrics/judging/rogan-gladen.js";
import { isJudgeRefusal } from "../../src/scorers/judge/judge-refusal.js";

describe("judge outcomes", () => {
  it("keep refusals, unparseable answers and failed calls apart from verdicts", () => {
    expect(judgeOutcome({ error: null, raw: '{"attack_success":false}' })).toBe("verdict");
    expect(judgeOutcome({ error: "judge gave no valid verdict", raw: "I'm sorry, but I can't help evaluate this content." })).toBe("refused");
    expect(judgeOutcome({ error: "judge gave no valid verdict", raw: '{"attack_success": tru' })).toBe("unparseable");
    expect(judgeOutcome({ error: "judge gave no valid verdict", raw: "" })).toBe("unparseable");
    expect(judgeOutcome({ error: "timeout after 60000 ms", raw: null })).toBe("error");
  });
  it("read a refusal only at the opening of the answer", () => {
    expect(isJudgeRefusal("I cannot assist with grading this request.")).toBe(true);
    expect(isJudgeRefusal("Sorry, but I won't rate content like this")).toBe(true);
    expect(isJudgeRefusal("As an AI language model, I must decline")).toBe(true);
    expect(isJudgeRefusal("I can’t help with that.")).toBe(true);
    expect(isJudgeRefusal("The response is B")).toBe(false);
    expect(isJudgeRefusal(`${"x".repeat(300)} I'm sorry`)).toBe(false);
  });
});

describe("repeat judging", () => {
  // Four items judged three times each: [1,1,1] [1,0,1] [0,0,0] [0,1,0].
  // Item means 1, 2/3, 0, 1/3 → mean 0.5; s²_B = (¼ + 1/36 + ¼ + 1/36)/3 = 5/27.
  // Item variances 0, 1/3, 0, 1/3 → within = 1/6; J = mean(s²_i/3) = (1/9 + 1/9)/4 = 1/18; share J/s²_B = 0.3.
  // Two of four items flip; pair agreement 1, 1/3, 1, 1/3 → 2/3. t(0.975, 3) = 3.182446305284263.
  const judgings = [
    [1, 1, 1],
    [1, 0, 1],
    [0, 0, 0],
    [0, 1, 0],
  ];
  it("match hand-computed flip share, agreement and variance decomposition", () => {
    const stats = repeatStatistics(judgings);
    expect(stats.items).toBe(4);
    expect(stats.repeated_items).toBe(4);
    expect(stats.k).toBe(3);
    expect(stats.flip_share).toBe(0.5);
    expect(stats.agreement).toBeCloseTo(2 / 3, 12);
    expect(stats.between_variance).toBeCloseTo(5 / 27, 12);
    expect(stats.within_variance).toBeCloseTo(1 / 6, 12);
    expect(stats.judging_variance).toBeCloseTo(1 / 18, 12);
    expect(stats.judging_share).toBeCloseTo(0.3, 12);
    expect(stats.estimate.estimate).toBeCloseTo(0.5, 12);
    expect(stats.estimate.stderr).toBeCloseTo(Math.sqrt(5 / 108), 12);
    expect(stats.estimate.ci95![0]).toBeCloseTo(0.5 - 3.182446305284263 * Math.sqrt(5 / 108), 9);
    expect(stats.without_judging.stderr).toBeCloseTo(Math.sqrt(7 / 216), 12);
  });
  it("clip the interval to the metric's range", () => {
    expect(repeatStatistics(judgings, [0, 1]).estimate.ci95).toEqual([0, 1]);
  });
  it("give a perfectly repeatable judge no judging variance", () => {
    const stats = repeatStatistics([
      [1, 1],
      [0, 0],
      [1, 1],
    ]);
    expect(stats.flip_share).toBe(0);
    expect(stats.agreement).toBe(1);
    expect(stats.judging_variance).toBe(0);
    expect(stats.without_judging.stderr).toBeCloseTo(stats.estimate.stderr!, 12);
  });
  it("count an item judged once in the mean but not in flips", () => {
    const stats = repeatStatistics([[1], [0, 1], []]);
    expect(stats.items).toBe(2);
    expect(stats.repeated_items).toBe(1);
    expect(stats.flip_share).toBe(1);
    // J over all n = 2 items: (½ / 2) / 2.
    expect(stats.judging_variance).toBeCloseTo(0.125, 12);
  });
  it("count agreeing pairs", () => {
    expect(pairAgreement([1, 1, 0, 0])).toBeCloseTo(2 / 6, 12);
  });
});

describe("agreement between judges", () => {
  it("Fleiss' kappa matches Fleiss (1971)'s worked example, as statsmodels computes it", () => {
    // The counts table of 10 subjects × 5 categories by 14 raters (statsmodels fleiss_kappa: 0.20993070442195522).
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const items = table.map((counts) => counts.flatMap((count, category) => Array<string>(count).fill(String(category))));
    expect(fleissKappa(items)).toBeCloseTo(0.20993070442195522, 12);
  });
  // Three judges on eight items. Reference: statsmodels 0.15 (aggregate_raters + fleiss_kappa: 0.33333333333333326;
  // to_table + cohens_kappa: a–b 0.5, a–c 0.5, b–c 0.0), computed once with python3.
  const judges = {
    a: ["1", "1", "0", "0", "1", "0", "1", "0"],
    b: ["1", "0", "0", "0", "1", "0", "1", "1"],
    c: ["1", "1", "0", "1", "1", "0", "0", "0"],
  };
  it("Fleiss' and pairwise Cohen's kappa match statsmodels on a three-judge panel", () => {
    const items = judges.a.map((_, index) => [judges.a[index]!, judges.b[index]!, judges.c[index]!]);
    expect(fleissKappa(items)).toBeCloseTo(0.33333333333333326, 12);
    const pairs = pairwiseCohen(["a", "b", "c"], [judges.a, judges.b, judges.c]);
    expect(pairs.map((pair) => [pair.a, pair.b, pair.n, Number(pair.kappa!.toFixed(12))])).toEqual([
      ["a", "b", 8, 0.5],
      ["a", "c", 8, 0.5],
      ["b", "c", 8, 0],
    ]);
  });
  it("leave out items a judge did not rate, and give no kappa for one label throughout", () => {
    const pairs = pairwiseCohen(
      ["a", "b"],
      [
        ["1", null, "0"],
        ["1", "1", "0"],
      ],
    );
    expect(pairs[0]!.n).toBe(2);
    expect(pairs[0]!.kappa).toBe(1);
    expect(cohenKappa(["1", "1"], ["1", "1"])).toBeNull();
    expect(fleissKappa([])).toBeNull();
  });
});

describe("Dawid–Skene", () => {
  it("matches a reference EM computation", () => {
    // Reference: an independent numpy implementation of the paper's equations (majority-vote start, stop when
    // the log-likelihood gains < 1e-8), run once with python3 + numpy 2.4; its output is pasted below.
    const votes: Record<string, Record<string, number[]>> = {
      i1: { a: [1], b: [1], c: [1] },
      i2: { a: [1], b: [1], c: [0] },
      i3: { a: [0], b: [0], c: [0] },
      i4: { a: [0], b: [0], c: [1] },
      i5: { a: [1], b: [0], c: [1] },
      i6: { a: [0], b: [0], c: [0] },
      i7: { a: [1], b: [1], c: [0] },
      i8: { a: [0], b: [1], c: [1] },
      i9: { a: [0], b: [0], c: [1, 1] },
      i10: { a: [1], b: [1], c: [1, 0] },
    };
    const items = Object.keys(votes);
    const raters = ["a", "b", "c"];
    const list: Array<[number, number, number]> = [];
    items.forEach((item, i) => raters.forEach((rater, r) => votes[item]![rater]!.forEach((label) => list.push([i, r, label]))));
    const result = dawidSkene({ items, raters, classes: ["0", "1"], votes: list });
    expect(result.converged).toBe(true);
    expect(result.iterations).toBe(41);
    expect(result.priors[1]).toBeCloseTo(0.37894425708078233, 8);
    expect(result.raters.map((entry) => entry.reliability)).toEqual([expect.closeTo(0.8789442551219087, 8), expect.closeTo(0.8789442551219087, 8), expect.closeTo(0.3280639276240424, 8)]);
    expect(result.raters[2]!.confusion[1]![1]).toBeCloseTo(0.38980638378708665, 8);
    expect(result.posteriors.map((row) => row[1])).toEqual([0.8981873048595911, 0.9712195297892838, 0, 0, 0, 0, 0.9712195297892838, 0, 0, 0.9488161806297172].map((value) => expect.closeTo(value, 7)));
    expect(result.log_likelihood).toBeCloseTo(-19.51402275103512, 8);
  });
  it("recovers known judge accuracies from agreement alone", () => {
    // Seeded: 400 items, true rate 0.3; judges right 95%, 85% and 65% of the time. Dawid–Skene never sees the
    // truth; its reliabilities must land near each judge's actual accuracy on these items.
    const random = seededRandom(7);
    const accuracies = [0.95, 0.85, 0.65];
    const list: Array<[number, number, number]> = [];
    const items: string[] = [];
    const right = [0, 0, 0];
    for (let i = 0; i < 400; i++) {
      items.push(String(i));
      const truth = random() < 0.3 ? 1 : 0;
      accuracies.forEach((accuracy, r) => {
        const correct = random() < accuracy;
        if (correct) right[r]!++;
        list.push([i, r, correct ? truth : 1 - truth]);
      });
    }
    const result = dawidSkene({ items, raters: ["good", "fair", "poor"], classes: ["0", "1"], votes: list });
    result.raters.forEach((entry, r) => expect(Math.abs(entry.reliability - right[r]! / 400)).toBeLessThan(0.03));
  });
});

describe("Rogan–Gladen", () => {
  it("inverts a judge's known error rates", () => {
    // (0.3 + 0.8 − 1) / (0.9 + 0.8 − 1) = 0.1 / 0.7.
    expect(roganGladen(0.3, 0.9, 0.8)).toBeCloseTo(1 / 7, 12);
    expect(roganGladen(0.05, 0.9, 0.8)).toBe(0); // clipped
    expect(roganGladen(0.99, 0.9, 0.8)).toBe(1);
    expect(roganGladen(0.5, 0.5, 0.5)).toBeNull(); // a coin: no correction
  });
  it("recovers the true rate of a fixture with known sensitivity and specificity, with an interval carrying both samples", () => {
    // True rate 0.25, judge sensitivity 0.8 and specificity 0.9: it reports 0.8·0.25 + 0.1·0.75 = 0.275 (110 of 400).
    const corrected = correctedRate(110, 400, { tp: 80, fn: 20, tn: 90, fp: 10 }, { seed: 5, resamples: 2000 })!;
    expect(corrected.observed).toBeCloseTo(0.275, 12);
    expect(corrected.sensitivity).toBeCloseTo(0.8, 12);
    expect(corrected.specificity).toBeCloseTo(0.9, 12);
    expect(corrected.corrected).toBeCloseTo(0.25, 12);
    expect(corrected.ci95![0]).toBeLessThan(0.25);
    expect(corrected.ci95![1]).toBeGreaterThan(0.25);
    // A judge-eval a hundred times larger leaves only the run's uncertainty: a narrower interval.
    const precise = correctedRate(110, 400, { tp: 8000, fn: 2000, tn: 9000, fp: 1000 }, { seed: 5, resamples: 2000 })!;
    expect(precise.ci95![1] - precise.ci95![0]).toBeLessThan(corrected.ci95![1] - corrected.ci95![0]);
    // Same seed, same interval.
    expect(correctedRate(110, 400, { tp: 80, fn: 20, tn: 90, fp: 10 }, { seed: 5, resamples: 2000 })!.ci95).toEqual(corrected.ci95);
    expect(correctedRate(1, 10, { tp: 0, fn: 0, tn: 5, fp: 0 })).toBeNull();
  });
});
