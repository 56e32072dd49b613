import { describe, expect, it } from "vitest";
import { combineOrders, parsePairwisePick, type PairwiseOrder } from "../../src/scorers/pairwise-compare.js";
import { compareLoglikelihoods } from "../../src/scorers/preference-loglikelihood.js";
import { scorerNamed } from "../../src/scorers/registry.js";

describe("preference agreement by log-likelihood", () => {
  it("agrees when the chosen response is strictly more likely; per character, by each response's own length", () => {
    // Hand-computed: −10 > −12, so raw agrees; per character −10/4 = −2.5 < −12/8 = −1.5, so normalised does not.
    expect(compareLoglikelihoods({ loglikelihood: -10, text: "abcd" }, { loglikelihood: -12, text: "abcdefgh" })).toEqual({
      agree: 1,
      agreeNormalized: 0,
      label: "chosen",
      margin: 2,
    });
    // −30/10 = −3 > −9/2 = −4.5: the longer chosen response wins only per character.
    expect(compareLoglikelihoods({ loglikelihood: -30, text: "0123456789" }, { loglikelihood: -9, text: "ab" })).toEqual({ agree: 0, agreeNormalized: 1, label: "rejected", margin: -21 });
    // Code points, as Python's len(): "é🙂" is 2 characters (3 UTF-16 units): −4/2 = −2 > −5/2 = −2.5.
    expect(compareLoglikelihoods({ loglikelihood: -4, text: "é🙂" }, { loglikelihood: -5, text: "ab" }).agreeNormalized).toBe(1);
  });

  it("counts a tie as a tie, not an agreement; an empty response counts as one character", () => {
    expect(compareLoglikelihoods({ loglikelihood: -3, text: "same" }, { loglikelihood: -3, text: "same" })).toEqual({ agree: 0, agreeNormalized: 0, label: "tie", margin: 0 });
    // −2/1 (empty, counted as 1) = −2 < −3/3 = −1.
    expect(compareLoglikelihoods({ loglikelihood: -2, text: "" }, { loglikelihood: -3, text: "abc" })).toMatchObject({ agree: 1, agreeNormalized: 0 });
  });

  it("declares its metrics: agreement rates (bad when low) and the margin in nats", () => {
    const scorer = scorerNamed("preference_loglikelihood", undefined)!;
    expect(scorer.needs).toBe("loglikelihood");
    expect(scorer.declaration.metrics.map((metric) => [metric.name, metric.kind.type, metric.bad])).toEqual([
      ["agree", "rate", "low"],
      ["agree_normalized", "rate", "low"],
      ["margin", "unbounded", "low"],
    ]);
  });
});

describe("pairwise comparison in both orders", () => {
  it("reads only a bare A or B", () => {
    for (const [answer, pick] of [
      ["A", "A"],
      [" b.", "B"],
      ["**A**", "A"],
      ["Response B", "B"],
      ["'A'\n", "A"],
      ["(B)", "B"],
    ] as const)
      expect(parsePairwisePick(answer), answer).toBe(pick);
    for (const answer of ["A or B", "Both", "I think A", "", "AB", "A because it is kinder", "Neither"]) expect(parsePairwisePick(answer), answer).toBeUndefined();
  });

  const order = (shownFirst: PairwiseOrder["shownFirst"], pick: PairwiseOrder["pick"]): PairwiseOrder => ({
    shownFirst,
    pick,
    preferred: pick === "tie" ? "tie" : (pick === "A") === (shownFirst === "first") ? "first" : "second",
    answer: pick,
  });

  it("combines the two orders: preference of the first text, share of A picks, consistency", () => {
    // First text shown as A picked, then shown as B picked: preferred both times, one A of two.
    expect(combineOrders([order("first", "A"), order("second", "B")])).toEqual({ preference: 1, firstPositionRate: 0.5, consistent: true });
    // Always A: a split decided by position.
    expect(combineOrders([order("first", "A"), order("second", "A")])).toEqual({ preference: 0.5, firstPositionRate: 1, consistent: false });
    // Always B: the other split.
    expect(combineOrders([order("first", "B"), order("second", "B")])).toEqual({ preference: 0.5, firstPositionRate: 0, consistent: false });
    // The second text both times.
    expect(combineOrders([order("first", "B"), order("second", "A")])).toEqual({ preference: 0, firstPositionRate: 0.5, consistent: true });
    // A tie (a prompt that allows one) counts ½ and is left out of the position share.
    expect(combineOrders([order("first", "tie"), order("second", "B")])).toEqual({ preference: 0.75, firstPositionRate: 0, consistent: false });
    expect(combineOrders([order("first", "tie"), order("second", "tie")])).toEqual({ preference: 0.5, firstPositionRate: null, consistent: true });
  });
});
