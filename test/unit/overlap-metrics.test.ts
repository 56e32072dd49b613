import { describe, expect, it } from "vitest";
import { computeBleu, corpusBleu, tokenize13a, tokenizeIntl, truthfulqaBleu, type BleuOptions } from "../../src/scorers/overlap/bleu.js";
import { rougeLsum, rougeN, rougeTokens, truthfulqaRouge } from "../../src/scorers/overlap/rouge.js";
import { OVERLAP_FIXTURE } from "../helpers/truthfulqa-overlap-fixture.js";

// Reference values from sacrebleu and rouge_score: see test/helpers/truthfulqa-overlap-fixture.ts.
const variant = (key: string): BleuOptions => {
  const [tokenize, smooth, effective] = key.split("/") as ["13a" | "intl", "exp" | "none", string];
  return { tokenize, smooth, effectiveOrder: effective === "True", lowercase: false };
};

describe("BLEU as sacrebleu computes it", () => {
  it("tokenizes as sacrebleu's intl and 13a tokenizers", () => {
    for (const { text, intl, "13a": v13a } of OVERLAP_FIXTURE.tokenizers) {
      expect(tokenizeIntl(text.trimEnd()), text).toBe(intl);
      expect(tokenize13a(text), text).toBe(v13a);
    }
  });

  it("scores each pair as lm-evaluation-harness's truthfulqa bleu() (intl, exp smoothing, no effective order)", () => {
    for (const pair of OVERLAP_FIXTURE.pairs) expect(truthfulqaBleu(pair.reference, pair.hypothesis), `${pair.reference} | ${pair.hypothesis}`).toBeCloseTo(pair.bleu, 9);
  });

  it("matches sacrebleu with 13a or intl, exp or no smoothing, with and without effective order", () => {
    for (const pair of OVERLAP_FIXTURE.pairs) {
      for (const [key, expected] of Object.entries(pair.bleu_variants)) {
        expect(corpusBleu([pair.hypothesis], [[pair.reference]], variant(key)).score, `${key}: ${pair.hypothesis}`).toBeCloseTo(expected, 9);
      }
    }
    const { hypotheses, references, scores } = OVERLAP_FIXTURE.corpus;
    // sacrebleu takes reference streams; corpusBleu takes each hypothesis's references.
    const perHypothesis = hypotheses.map((_, index) => references.map((stream) => stream[index]!));
    for (const [key, expected] of Object.entries(scores)) expect(corpusBleu(hypotheses, perHypothesis, variant(key)).score, key).toBeCloseTo(expected, 9);
  });

  it("computes exp smoothing by hand: 'No.' against 'No, it is not.' with effective order", () => {
    // intl tokens: hyp "No ." (2), ref "No , it is not ." (6). Unigrams 2/2 = 100%; bigram "No ." 0/1, exp
    // smoothing → 100 / (2·1) = 50%; no trigrams, so the effective order is 2. BP = exp(1 − 6/2) = e^-2.
    const options: BleuOptions = { tokenize: "intl", smooth: "exp", effectiveOrder: true, lowercase: false };
    const expected = Math.exp(-2) * Math.sqrt(100 * 50);
    expect(corpusBleu(["No."], [["No, it is not."]], options).score).toBeCloseTo(expected, 12);
    // Without effective order the missing 3- and 4-gram precisions are 0 and the floored log makes BLEU 0.
    expect(truthfulqaBleu("No, it is not.", "No.")).toBe(0);
    expect(computeBleu([0, 0, 0, 0], [3, 2, 1, 0], 3, 3, options).score).toBe(0);
  });

  it("picks the closest reference length, the shorter on a tie", () => {
    const score = corpusBleu(["a b c d e"], [["a b c d", "a b c d e f"]], { tokenize: "none", smooth: "none", effectiveOrder: false, lowercase: false });
    expect([score.hypothesisLength, score.referenceLength]).toEqual([5, 4]);
  });
});

describe("ROUGE as rouge_score computes it", () => {
  it("tokenizes as its default tokenizer: lower case, [a-z0-9] runs only", () => {
    expect(rougeTokens("Café au lait isn't French, naïvely.")).toEqual(["caf", "au", "lait", "isn", "t", "french", "na", "vely"]);
    expect(rougeTokens("  ")).toEqual([]);
  });

  it("scores each pair as lm-evaluation-harness's truthfulqa rouge() (rouge1, rouge2, rougeLsum × 100)", () => {
    for (const pair of OVERLAP_FIXTURE.pairs) {
      const got = truthfulqaRouge(pair.reference, pair.hypothesis);
      for (const key of ["rouge1", "rouge2", "rougeLsum"] as const) expect(got[key], `${key}: ${pair.reference} | ${pair.hypothesis}`).toBeCloseTo(pair.rouge[key], 9);
    }
  });

  it("computes ROUGE-N and summary-level LCS by hand", () => {
    // "the cat sat" vs "the cat the": unigram overlap min(1,2)+1+0 = 2 → P 2/3, R 2/3, F 2/3.
    expect(rougeN(["the", "cat", "sat"], ["the", "cat", "the"], 1)).toBeCloseTo(2 / 3, 12);
    // Bigrams: "the cat" matches once of 2 each → F 1/2.
    expect(rougeN(["the", "cat", "sat"], ["the", "cat", "the"], 2)).toBeCloseTo(1 / 2, 12);
    // Target sentences "a b c" / "d e", prediction "a c x" / "d": union LCS of "a b c" is {a, c}, of "d e" {d}:
    // 3 hits; P = 3/4, R = 3/5, F = 2·(3/4)(3/5)/(3/4 + 3/5) = 2/3.
    expect(rougeLsum("a b c\nd e", "a c x\nd")).toBeCloseTo(2 / 3, 12);
    // The union is of positions in the target sentence: "a a" against "a" / "a" takes position 1 from both
    // backtracks (the last match first), so 1 hit: P = 1/2, R = 1/2.
    expect(rougeLsum("a a", "a\na")).toBeCloseTo(1 / 2, 12);
    // A union token is a hit only while both texts have an unused copy: the second "a" finds none left.
    expect(rougeLsum("a\na", "a")).toBeCloseTo(2 / 3, 12);
  });
});
