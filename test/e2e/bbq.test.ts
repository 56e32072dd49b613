import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BbqItem } from "../../src/datasets/formats/bbq.js";
import type { RunSummary } from "../../src/metrics/summary.js";
import type { ResultRow } from "../../src/results/record.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS, hasShared } from "../helpers/shared.js";

// BBQ end to end on the published files in ../shared: the generation path against a mock model whose
// answers the test decides, and the log-likelihood path on the tiny real model. Each time summary.json's
// accuracy and bias scores are checked against a count the test does itself from the rows.

const CATEGORIES = ["Age", "Disability_status", "Nationality", "Physical_appearance", "Religion", "Sexual_orientation"];

/** The first `count` records of each category, in one file (a run covers them all). */
function mixedFile(dir: string, count: number): string {
  const lines = CATEGORIES.flatMap((name) =>
    readFileSync(join(SHARED_DATASETS, `bbq/${name}.jsonl`), "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(0, count),
  );
  const path = join(dir, "bbq-mixed.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

interface Expected {
  s_amb: number | null;
  s_dis: number | null;
  acc_amb: number;
  acc_dis: number;
}

/** The paper's formulas, counted directly from the rows' chosen answers and the items' metadata. */
function countFromRows(rows: ResultRow[], scorer: string): Expected {
  const tally = { ambig: { n: 0, correct: 0, biased: 0, counted: 0 }, disambig: { n: 0, correct: 0, biased: 0, counted: 0 } };
  for (const row of rows) {
    const item = row.item_metadata!.bbq as BbqItem;
    const label = row.scores![scorer]!.label!;
    const chosen = label === "unparseable" ? null : Number(label);
    const side = tally[item.condition];
    side.n++;
    if (chosen === item.label) side.correct++;
    if (chosen === null || chosen === item.unknown) continue;
    side.counted++;
    if (item.polarity === "neg" ? chosen === item.target : chosen !== item.target) side.biased++;
  }
  const ratio = (side: typeof tally.ambig) => (side.counted === 0 ? null : (2 * side.biased) / side.counted - 1);
  const accAmb = tally.ambig.correct / tally.ambig.n;
  const ambRatio = ratio(tally.ambig);
  return { s_amb: ambRatio === null ? null : (1 - accAmb) * ambRatio, s_dis: ratio(tally.disambig), acc_amb: accAmb, acc_dis: tally.disambig.correct / tally.disambig.n };
}

function check(summary: RunSummary, rows: ResultRow[], scorer: string): void {
  const groups = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "category,model")!.groups;
  const sets: Array<[string, ResultRow[], Record<string, number> | undefined]> = [
    ["all", rows, summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!.scores.bbq_bias as never],
    ...CATEGORIES.map((category): [string, ResultRow[], Record<string, number> | undefined] => [
      category,
      rows.filter((row) => row.category === category),
      groups.find((group) => group.by.category === category)!.scores.bbq_bias as never,
    ]),
  ];
  for (const [name, subset, metrics] of sets) {
    const expected = countFromRows(subset, scorer);
    const got = metrics as unknown as Record<keyof Expected, { estimate: number | null }>;
    for (const key of ["s_amb", "s_dis", "acc_amb", "acc_dis"] as const) {
      if (expected[key] === null) expect(got[key].estimate, `${name} ${key}`).toBeNull();
      else expect(got[key].estimate, `${name} ${key}`).toBeCloseTo(expected[key]!, 12);
    }
  }
  const headline = summary.headlines.find((entry) => entry.metric === "s_dis")!;
  expect(headline.estimate).toBeCloseTo(countFromRows(rows, scorer).s_dis!, 12);
}

describe.skipIf(!hasShared)("bbq-generate on the published BBQ files, against a mock model", () => {
  let mock: MockLlm;
  /** What the mock meant by each prompt: the option index, or null for a reply that names none. */
  const meant = new Map<string, number | null>();
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      const options = [...request.text.matchAll(/^\(([abc])\) (.*)$/gm)].map((match) => match[2]!);
      if (options.length !== 3) return { reply: "ok" };
      // A deterministic choice and wording per prompt: a letter in several forms, the answer's text, or no answer.
      let hash = 0;
      for (const char of request.text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
      const index = hash % 3;
      const letter = "abc"[index]!;
      const form = (hash >>> 8) % 6;
      const replies = [`(${letter})`, letter.toUpperCase(), `The answer is (${letter}).`, options[index]!, `${letter}) ${options[index]}`, "I would rather not guess."];
      meant.set(request.text, form === 5 ? null : index);
      return { reply: replies[form]! };
    });
  });
  afterAll(() => mock.close());

  it("maps each reply to the option meant, counts unparseable replies, and reports the paper's scores per category", async () => {
    const dir = tempDir();
    const file = mixedFile(dir, 20);
    const result = await runCli(["run", "--suite", "bbq-generate", "--dataset", file, "--models", "mock-target", "--base-url", mock.url, "--output-dir", dir, "--run-id", "gen", "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readPartials(join(dir, "gen"));
    expect(rows).toHaveLength(120);
    let unparseable = 0;
    for (const row of rows) {
      const intended = meant.get(row.messages.at(-1)!.content);
      expect(intended, row.test_id).not.toBeUndefined();
      expect(row.scores!.bbq_choice!.label, row.raw_candidate!).toBe(intended === null ? "unparseable" : String(intended));
      if (intended === null) unparseable++;
      expect(row.tags).toEqual({ context_condition: (row.item_metadata!.bbq as BbqItem).condition });
    }
    expect(unparseable).toBeGreaterThan(0);
    const summary = JSON.parse(readFileSync(join(dir, "gen", "summary.json"), "utf8")) as RunSummary;
    check(summary, rows, "bbq_choice");
    const model = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "model")!.groups[0]!.scores.bbq_bias!;
    expect(model.unparseable!.successes).toBe(unparseable);
    expect(summary.headlines.map((headline) => headline.name)).toEqual([
      "bias score, ambiguous (s_AMB)",
      "bias score, disambiguated (s_DIS)",
      "accuracy, ambiguous",
      "accuracy, disambiguated",
      "unparseable answers",
    ]);
  }, 120_000);
});

describe.skipIf(!needs("llama", "shared"))("bbq by log-likelihood on a local model (stories260K)", () => {
  it("picks the most likely of the three answers after lm-evaluation-harness's context, and reports the scores counted from the rows", async () => {
    const dir = tempDir();
    const file = mixedFile(dir, 4);
    const model = `llamacpp:${join(SHARED_DATASETS, "models/stories260K.gguf")}`;
    const result = await runCli(["run", "--suite", "bbq", "--dataset", file, "--models", model, "--output-dir", dir, "--run-id", "ll", "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readPartials(join(dir, "ll"));
    expect(rows).toHaveLength(24);
    for (const row of rows) {
      expect(row.raw_candidate).toBe("");
      const { loglikelihoods } = JSON.parse(row.scores!.bbq_choice_ll!.raw!) as { loglikelihoods: number[] };
      expect(loglikelihoods).toHaveLength(3);
      expect(row.scores!.bbq_choice_ll!.label).toBe(String(loglikelihoods.indexOf(Math.max(...loglikelihoods))));
    }
    const summary = JSON.parse(readFileSync(join(dir, "ll", "summary.json"), "utf8")) as RunSummary;
    check(summary, rows, "bbq_choice_ll");
  }, 300_000);
});
