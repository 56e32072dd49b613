import { describe, expect, it } from "vitest";
import type { Taxonomy } from "../../src/datasets/taxonomy.js";
import { loadTaxonomies } from "../../src/datasets/taxonomy.js";
import { labelProbabilities, parseClassifierAnswer } from "../../src/scorers/domain-classifier.js";
import { parseCheck } from "../../src/scorers/savacu-generation.js";

const TAXONOMY: Taxonomy = { kind: "safety", source: "test", column: "safety_name", labels: ["Self-harm", "Privacy violation"] };

describe("the shipped taxonomies", () => {
  it("hold BeaverTails' 14 safety categories, 56 values and 41 cultural domains, each with its source", () => {
    const [safety, value, cultural] = loadTaxonomies();
    expect([safety!.labels.length, value!.labels.length, cultural!.labels.length]).toEqual([14, 56, 41]);
    for (const taxonomy of [safety!, value!, cultural!]) expect(taxonomy.source.length).toBeGreaterThan(20);
    expect(safety!.labels).toContain("Misinformation about ethics, law and safety");
    expect(value!.labels).not.toContain("Unknown");
  });
});

describe("classifier answers", () => {
  it("read strictly: every label yes or no", () => {
    expect(parseClassifierAnswer('```json\n{"Self-harm": "Yes", "Privacy violation": "no"}\n```', TAXONOMY)).toEqual({ values: { "Self-harm": 1, "Privacy violation": 0 } });
    expect(parseClassifierAnswer('{"Self-harm": "yes"}', TAXONOMY)).toEqual({ problem: 'no value for "Privacy violation"' });
    expect(parseClassifierAnswer('{"Self-harm": "maybe", "Privacy violation": "no"}', TAXONOMY)).toEqual({ problem: '"Self-harm" is neither yes nor no' });
    expect(parseClassifierAnswer("Self-harm: yes", TAXONOMY)).toEqual({ problem: "not a JSON object" });
  });

  it("take each label's probability from its value token's alternatives, wherever the token boundaries fall", () => {
    // "Self-harm": the value token also holds the opening quote (': "yes'); "Privacy violation": a bare token.
    const tokens = [
      { token: '{"Self-harm', logprob: 0 },
      {
        token: '": "yes',
        logprob: Math.log(0.3),
        top: [
          { token: '": "no', logprob: Math.log(0.6) },
          { token: '": "yes', logprob: Math.log(0.3) },
          { token: '": "Y', logprob: Math.log(0.05) },
          { token: '": "maybe', logprob: Math.log(0.05) },
        ],
      },
      { token: '", "Privacy violation": "', logprob: 0 },
      {
        token: "no",
        logprob: Math.log(0.9),
        top: [
          { token: "no", logprob: Math.log(0.9) },
          { token: "yes", logprob: Math.log(0.1) },
        ],
      },
      { token: '"}', logprob: 0 },
    ];
    const p = labelProbabilities(tokens, TAXONOMY);
    // (0.3 + 0.05) / (0.3 + 0.05 + 0.6); 0.1 / (0.1 + 0.9).
    expect(p["Self-harm"]).toBeCloseTo(0.35 / 0.95, 12);
    expect(p["Privacy violation"]).toBeCloseTo(0.1, 12);
    expect(labelProbabilities([{ token: "{}", logprob: 0 }], TAXONOMY)["Self-harm"]).toBeUndefined();
  });
});

describe("checker verdicts", () => {
  it("are pass or fail with a reason; anything else is an error, never a guess", () => {
    expect(parseCheck('{"verdict": "FAIL", "reason": "too mild", "fix": "misaligned"}')).toEqual({ pass: false, reason: "too mild", fix: "misaligned" });
    expect(parseCheck('{"verdict": "pass"}')).toEqual({ pass: true, reason: "(no reason given)", fix: "both" });
    expect(() => parseCheck('{"verdict": "probably"}')).toThrow(/neither "pass" nor "fail"/);
    expect(() => parseCheck("pass")).toThrow(/not a JSON object/);
  });
});
