import { describe, expect, it } from "vitest";
import { mean, meanOf, proportion } from "../../src/metrics/intervals.js";
import { studentTQuantile } from "../../src/metrics/t-distribution.js";

describe("Wilson interval", () => {
  it("matches hand-computed values", () => {
    // p = 0.5, n = 10, z = 1.96: centre 0.5, half-width 1.96*sqrt(0.025 + 0.0096)/1.384 = 0.2366
    const estimate = proportion(5, 10);
    expect(estimate.estimate).toBe(0.5);
    expect(estimate.ci95![0]).toBeCloseTo(0.2366, 3);
    expect(estimate.ci95![1]).toBeCloseTo(0.7634, 3);
    expect(estimate.stderr).toBeCloseTo(Math.sqrt(0.025), 10);
  });

  it("stays informative at 0 and at n successes", () => {
    const none = proportion(0, 20);
    expect(none.estimate).toBe(0);
    expect(none.ci95![0]).toBe(0);
    expect(none.ci95![1]).toBeCloseTo(0.1611, 3); // 3.8416/(20+3.8416)
    const all = proportion(20, 20);
    expect(all.ci95![1]).toBe(1);
    expect(all.ci95![0]).toBeCloseTo(1 - 0.1611, 3);
  });

  it("handles n = 1 and empty groups", () => {
    const one = proportion(1, 1);
    expect(one.estimate).toBe(1);
    expect(one.ci95![0]).toBeCloseTo(0.2065, 3); // 1/(1+3.8416)
    const empty = proportion(0, 0);
    expect(empty).toMatchObject({ estimate: null, ci95: null, stderr: null, n: 0 });
  });
});

describe("t interval", () => {
  it("uses Student's t quantiles", () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.3027, 3);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281, 3);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 3);
    expect(studentTQuantile(0.975, 100000)).toBeCloseTo(1.96, 2);
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-2.5706, 3);
  });

  it("matches a hand-computed interval", () => {
    // values 1..5: mean 3, sd sqrt(2.5), se 0.7071, t(0.975,4) = 2.7764 → half-width 1.9633
    const estimate = meanOf([1, 2, 3, 4, 5]);
    expect(estimate.estimate).toBe(3);
    expect(estimate.stderr).toBeCloseTo(Math.SQRT1_2, 4);
    expect(estimate.ci95![0]).toBeCloseTo(1.0367, 3);
    expect(estimate.ci95![1]).toBeCloseTo(4.9633, 3);
  });

  it("gives no interval for n = 1 and nothing for n = 0", () => {
    expect(meanOf([0.4])).toMatchObject({ estimate: 0.4, ci95: null, stderr: null, n: 1 });
    expect(meanOf([])).toMatchObject({ estimate: null, ci95: null, n: 0 });
  });

  it("clips to a score's range", () => {
    const estimate = mean(3, 0.5, 0.5, [0, 1]);
    expect(estimate.ci95).toEqual([0, 1]);
  });

  it("has zero width when all values agree", () => {
    expect(meanOf([0.9, 0.9, 0.9]).ci95).toEqual([0.9, 0.9]);
  });
});
