import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveRunConfig } from "../../src/config/load.js";
import type { RunSummary } from "../../src/metrics/summary.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { ModelRegistry } from "../../src/providers/registry.js";
import { rejudge } from "../../src/runner/rejudge.js";
import { run } from "../../src/runner/run.js";
import { startMockLlm } from "../helpers/mock-llm.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const HH = join(SHARED_DATASETS, "hh-rlhf/harmless-base_test.jsonl");
// The real HH dialogues run to ≈ 1,500 of stories260K's 512-piece tokens: a context of 4,096 holds them.
const LLAMA = { threads: 1, gpu: false as const, context_size: 4096 };

afterAll(() => disposeLocalModels());

/** The summary's headlines by name. */
function headlines(folder: string): Record<string, RunSummary["headlines"][number]> {
  const summary = JSON.parse(readFileSync(join(folder, "summary.json"), "utf8")) as RunSummary;
  return Object.fromEntries(summary.headlines.map((headline) => [headline.name, headline]));
}

describe.skipIf(!needs("llama", "shared"))("hh-preference by log-likelihood, on the real harmless-base file and stories260K", () => {
  it("agrees exactly when log P(chosen) > log P(rejected), each recomputed here through the provider", async () => {
    const dir = tempDir();
    const config = resolveRunConfig(undefined, {
      suite: "hh-preference",
      dataset: HH,
      limit: 3,
      models: [`llamacpp:${STORIES}`],
      output_dir: dir,
      run_id: "ll",
      concurrency: 2,
      providers: { llamacpp: LLAMA },
    });
    const outcome = await run(config, { env: {} });
    expect(outcome.counts).toEqual({ ok: 3, error: 0 });
    const rows = readPartials(join(dir, "ll"));
    const model = new ModelRegistry({ env: {}, providers: { llamacpp: LLAMA } }).resolve(`llamacpp:${STORIES}`).model;
    const records = readFileSync(HH, "utf8")
      .split("\n")
      .slice(0, 3)
      .map((line) => JSON.parse(line) as { chosen: string; rejected: string });
    let agreements = 0;
    for (const row of rows) {
      const { dialogue, chosen, rejected } = row.item_metadata as { dialogue: string; chosen: string; rejected: string };
      const record = records[Number(row.test_id) - 1]!;
      expect(dialogue + " " + chosen).toBe(record.chosen);
      // Scored alone, one request at a time: what the batched scorer must equal.
      const llChosen = (await model.loglikelihood!(dialogue, ` ${chosen}`)).logprob;
      const llRejected = (await model.loglikelihood!(dialogue, ` ${rejected}`)).logprob;
      const score = row.scores!.preference_loglikelihood!;
      const data = score.data as { loglikelihood_chosen: number; loglikelihood_rejected: number };
      expect(data.loglikelihood_chosen).toBeCloseTo(llChosen, 6);
      expect(data.loglikelihood_rejected).toBeCloseTo(llRejected, 6);
      expect(score.value).toBe(llChosen > llRejected ? 1 : 0);
      expect(score.label).toBe(llChosen > llRejected ? "chosen" : llChosen < llRejected ? "rejected" : "tie");
      const perCharacter = (value: number, text: string) => value / Math.max(1, [...text].length);
      expect(score.metrics!.agree_normalized).toBe(perCharacter(llChosen, chosen) > perCharacter(llRejected, rejected) ? 1 : 0);
      expect(score.metrics!.margin).toBeCloseTo(llChosen - llRejected, 6);
      expect(row.raw_candidate).toBe("");
      agreements += llChosen > llRejected ? 1 : 0;
    }
    // Not a vacuous check: on these three pairs stories260K prefers chosen on pairs 1 and 3 and rejected on pair 2,
    // and per character the other way round on pairs 1 and 2.
    const ordered = [...rows].sort((a, b) => Number(a.test_id) - Number(b.test_id)).map((row) => row.scores!.preference_loglikelihood!);
    expect(ordered.map((score) => [score.value, score.metrics!.agree_normalized])).toEqual([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    // The headline's successes and n are the chapter's agreements and total.
    expect(headlines(join(dir, "ll"))["preference agreement (log-likelihood)"]).toMatchObject({ n: 3, estimate: agreements / 3 });
    const summary = JSON.parse(readFileSync(join(dir, "ll", "summary.json"), "utf8")) as RunSummary;
    expect(summary.totals.scores.preference_loglikelihood!.agree).toMatchObject({ successes: agreements, n: 3 });
  });
});

/** Reply A and reply B of a judge prompt, as the shipped prompt frames them. */
function replies(text: string): [string, string] {
  const between = (open: string, close: string) => text.slice(text.indexOf(open) + open.length, text.indexOf(close)).trim();
  return [between("[REPLY A]", "[END REPLY A]"), between("[REPLY B]", "[END REPLY B]")];
}

const dialogue = (question: string) => `\n\nHuman: ${question}\n\nAssistant:`;

describe("hh-preference-judge: the model under test as a pairwise judge, against a mock with a known position bias", () => {
  it("asks both orders, and reports agreement, position bias and consistency as counted by hand", async () => {
    // The mock prefers a reply marked [good] wherever it is shown; with no marked reply it always answers A.
    const mock = await startMockLlm((request) => {
      if (!request.text.includes("[REPLY A]")) return { reply: "ok" };
      const [a, b] = replies(request.text);
      return { reply: a.includes("[good]") ? "A" : b.includes("[good]") ? "B" : "A" };
    });
    try {
      const dir = tempDir();
      const dataset = join(dir, "pairs.jsonl");
      const pair = (question: string, chosen: string, rejected: string) => ({ chosen: `${dialogue(question)} ${chosen}`, rejected: `${dialogue(question)} ${rejected}` });
      writeJsonl(dataset, [
        pair("q1", "[good] yes", "no"), // chosen in both orders: agree; one A of two; consistent
        pair("q2", "[good] sure", "never"),
        pair("q3", "[good] fine", "bad"),
        pair("q4", "meh", "[good] better"), // rejected in both orders: no agreement; one A of two; consistent
        pair("q5", "one", "two"), // position decides: A twice, a split: no agreement; inconsistent
        pair("q6", "three", "four"),
        pair("q7", "same", "same"), // identical: a tie, asked nothing
      ]);
      const config = resolveRunConfig(undefined, { suite: "hh-preference-judge", dataset, models: ["mock-target"], base_url: mock.url, output_dir: dir, run_id: "judge" });
      const outcome = await run(config, { env: {} });
      expect(outcome.counts).toEqual({ ok: 7, error: 0 });
      const rows = readPartials(join(dir, "judge")).sort((a, b) => Number(a.test_id) - Number(b.test_id));
      const scores = rows.map((row) => row.scores!.preference_judge!);
      expect(scores.map((score) => [score.value, score.label, score.metrics!.preference, score.metrics!.first_position_rate, score.metrics!.consistent])).toEqual([
        [1, "chosen", 1, 0.5, 1],
        [1, "chosen", 1, 0.5, 1],
        [1, "chosen", 1, 0.5, 1],
        [0, "rejected", 0, 0.5, 1],
        [0, "split", 0.5, 1, 0],
        [0, "split", 0.5, 1, 0],
        [0, "tie", 0.5, null, null],
      ]);
      // Two judge calls per pair (none for the identical one), the chosen reply shown as A first, then as B.
      expect(mock.requests.filter((request) => request.text.includes("[REPLY A]"))).toHaveLength(12);
      const calls = scores[0]!.transcript!;
      expect(calls.map((call) => [call.role, replies(call.messages[0]!.content)])).toEqual([
        ["target", ["[good] yes", "no"]],
        ["target", ["no", "[good] yes"]],
      ]);
      expect(calls[0]!.messages[0]!.content).toContain("Human: q1");
      expect(scores[6]!.transcript).toBeUndefined();
      // By hand: 3 agreements of 7 pairs, Wilson 95% [0.15822, 0.74954] (statsmodels proportion_confint(3, 7,
      // method="wilson")); 8 of the 12 answers picked A; 4 of the 6 asked pairs were consistent.
      const summary = headlines(join(dir, "judge"));
      const agreement = summary["preference agreement (pairwise, both orders)"]!;
      expect(agreement.n).toBe(7);
      const totals = (JSON.parse(readFileSync(join(dir, "judge", "summary.json"), "utf8")) as RunSummary).totals;
      expect(totals.scores.preference_judge!.agree).toMatchObject({ successes: 3, n: 7 });
      expect(agreement.estimate).toBeCloseTo(3 / 7, 12);
      expect(agreement.ci95![0]).toBeCloseTo(0.15822, 5);
      expect(agreement.ci95![1]).toBeCloseTo(0.74954, 5);
      expect(summary["answers picking position A"]!).toMatchObject({ n: 6 });
      expect(summary["answers picking position A"]!.estimate).toBeCloseTo(8 / 12, 12);
      expect(summary["same pick in both orders"]!).toMatchObject({ n: 6, estimate: 4 / 6 });
      // A rejudge asks the model under test again (its scorers get the row's model as role target): the same answers.
      const asked = mock.requests.length;
      await rejudge("judge", { outputDir: dir, scoring: "again", env: {}, preflight: false });
      expect(mock.requests.slice(asked).filter((request) => request.text.includes("[REPLY A]"))).toHaveLength(12);
      const again = readPartials(join(dir, "judge"))
        .filter((row) => row.scores?.["again/preference_judge"])
        .sort((a, b) => Number(a.test_id) - Number(b.test_id));
      expect(again.map((row) => row.scores!["again/preference_judge"]!.value)).toEqual([1, 1, 1, 0, 0, 0, 0]);
    } finally {
      await mock.close();
    }
  });

  it("never guesses: an answer that is not A or B is the row's scorer error, with the answer shown", async () => {
    const mock = await startMockLlm((request) => ({ reply: request.text.includes("[REPLY A]") ? "I prefer A because it is kinder." : "ok" }));
    try {
      const dir = tempDir();
      const dataset = join(dir, "pairs.jsonl");
      writeJsonl(dataset, [{ prompt: "Hi", chosen: "Hello", rejected: "Go away" }]);
      const config = resolveRunConfig(undefined, { suite: "hh-preference-judge", dataset, models: ["mock-target"], base_url: mock.url, output_dir: dir, run_id: "bad" });
      await run(config, { env: {} });
      const [row] = readPartials(join(dir, "bad"));
      expect(row!.status).toBe("error");
      expect(row!.scores!.preference_judge).toMatchObject({ value: null, raw: "I prefer A because it is kinder." });
      expect(row!.scores!.preference_judge!.error).toContain("did not answer A or B");
    } finally {
      await mock.close();
    }
  });
});
