import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejudge, resolveRunConfig, run, type RunConfigInput } from "../../src/index.js";
import { isJudgeRequest, isPreflightRequest, startMockLlm, type MockAction, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// The winrate suite end to end against a real HTTP server on loopback playing three models: the target and
// the baseline answer each instruction by a fixed table, and the judge prefers the answer that says GOOD,
// else (neither does) always names position A, as a position-biased judge would. Its token probabilities
// (logprobs) are given on every verdict: 0.9 on its letter when one answer says GOOD, 0.6 when it falls back
// on position A. Every expected number below is worked out by hand from these rules.

const TARGET: Record<string, string> = {
  "Name a colour.": "Blue. GOOD",
  "Translate the text.\n\nBonjour": "Hello.",
  "Say something.": "Something.",
  "Repeat: same": "same",
  "Give a tip.": "Drink water. GOOD",
};
const BASELINE: Record<string, string> = {
  "Name a colour.": "Red.",
  "Translate the text.\n\nBonjour": "Hello. GOOD",
  "Say something.": "Anything.",
  "Repeat: same": "same",
  "Give a tip.": "Sleep.",
};

const answers = (request: MockRequest) => {
  const text = (request.body.messages as Array<{ content: string }>).at(-1)!.content;
  const between = (label: string) => new RegExp(`\\[ANSWER ${label} START\\]\\n([\\s\\S]*?)\\n\\[ANSWER ${label} END\\]`).exec(text)![1]!;
  return { a: between("A"), b: between("B"), text };
};

/** A chat completion whose first token carries top log-probabilities (OpenAI's logprobs.content). */
function withLogprobs(letter: "A" | "B", probability: number): MockAction {
  const other = letter === "A" ? "B" : "A";
  const top = [
    { token: letter, logprob: Math.log(probability) },
    // The other letter, spelled with a leading space, as tokenizers often do; and a token that is no letter.
    { token: ` ${other}`, logprob: Math.log(1 - probability - 0.01) },
    { token: "The", logprob: Math.log(0.01) },
  ];
  return {
    raw: JSON.stringify({
      id: "chatcmpl-judge",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: letter }, finish_reason: "stop", logprobs: { content: [{ token: letter, logprob: Math.log(probability), top_logprobs: top }] } }],
      usage: { prompt_tokens: 10, completion_tokens: 1 },
    }),
  };
}

let mock: MockLlm;
let counted = 0;
beforeAll(async () => {
  mock = await startMockLlm((request) => {
    if (isPreflightRequest(request)) return { reply: "OK" };
    const model = String(request.body.model);
    const last = (request.body.messages as Array<{ content: string }>).at(-1)!.content;
    if (model === "target" || model === "target2") return { reply: TARGET[last] ?? "unknown" };
    if (model === "baseline") return { reply: BASELINE[last] ?? "unknown" };
    // A baseline that never answers the same way twice: shows which rows share one answer.
    if (model === "counting-baseline") return { reply: `${BASELINE[last] ?? "unknown"} #${++counted}` };
    if (model === "mute-judge") return { reply: "Both are fine." };
    // A judge whose API refuses log-probabilities (as some reasoning models' do), and answers plainly without.
    if (model === "plain-judge") {
      if (request.body.logprobs) return { status: 400, json: { error: { message: "logprobs is not supported with this model" } } };
      const { a, b } = answers(request);
      return { reply: a.includes("GOOD") === b.includes("GOOD") ? "A" : a.includes("GOOD") ? "A" : "B" };
    }
    if (isJudgeRequest(request)) {
      const { a, b } = answers(request);
      if (a.includes("GOOD") !== b.includes("GOOD")) return withLogprobs(a.includes("GOOD") ? "A" : "B", 0.9);
      return withLogprobs("A", 0.6);
    }
    return { status: 404 };
  });
});
afterAll(async () => mock.close());

function alpacaFile(dir: string, withOutputs = false): string {
  const file = join(dir, "alpaca.jsonl");
  writeJsonl(file, [
    { instruction: "Name a colour.", input: "", ...(withOutputs ? { output: BASELINE["Name a colour."] } : {}) },
    { instruction: "Translate the text.", input: "Bonjour", ...(withOutputs ? { output: BASELINE["Translate the text.\n\nBonjour"] } : {}) },
    { instruction: "Say something.", input: "", ...(withOutputs ? { output: BASELINE["Say something."] } : {}) },
    { instruction: "Repeat: same", input: "", ...(withOutputs ? { output: BASELINE["Repeat: same"] } : {}) },
    { instruction: "Give a tip.", input: "", ...(withOutputs ? { output: BASELINE["Give a tip."] } : {}) },
  ]);
  return file;
}

type Row = {
  test_id: string;
  status: string;
  error: string | null;
  transcript: Array<{ role: string; model: string; response?: string | null; finish_reason?: string | null }>;
  scores: Record<string, { value: number | null; label: string | null; error: string | null; metrics: Record<string, number | null>; data: Record<string, unknown> }>;
};

function rows(folder: string): Map<string, Row> {
  const list = readFileSync(join(folder, "partials.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Row);
  return new Map(list.map((row) => [row.test_id, row]));
}

/** A run of the built-in suite file (as `--suite winrate`), its settings under the flags given here. */
const suiteRun = (flags: RunConfigInput) => run(resolveRunConfig(undefined, { suite: "winrate", base_url: mock.url, ...flags }), { env: {} });

const judgeCalls = (from: number) => mock.requests.slice(from).filter((request) => isJudgeRequest(request) && !isPreflightRequest(request));

describe("winrate suite", () => {
  it("with a baseline model: both orders judged, identical answers tie unjudged, the win rate and its t interval by hand", async () => {
    const dir = tempDir();
    const before = mock.requests.length;
    const outcome = await suiteRun({ dataset: alpacaFile(dir), models: ["target"], roles: { baseline: "baseline" }, judge_model: "judge", output_dir: dir, run_id: "model" });
    expect(outcome.counts).toEqual({ ok: 5, error: 0 });
    const byId = rows(join(dir, "model"));
    // Ids are line numbers (id_field "#line"); the value per item: 1 target wins both, 0 loses both, ½ split or identical.
    const values = ["1", "2", "3", "4", "5"].map((id) => byId.get(id)!.scores.winrate_judge!.value);
    expect(values).toEqual([1, 0, 0.5, 0.5, 1]);
    expect(["1", "2", "3", "4", "5"].map((id) => byId.get(id)!.scores.winrate_judge!.label)).toEqual(["target better", "baseline better", "split (position decided)", "identical", "target better"]);
    // The plan called the target then the baseline, each recorded; the baseline got the instruction with its input.
    expect(byId.get("2")!.transcript.map((call) => `${call.role}:${call.model}`)).toEqual(["target:target", "baseline:baseline"]);
    expect(byId.get("2")!.transcript[1]!.response).toBe("Hello. GOOD");

    // Four distinct pairs, two verdicts each; the identical pair (item 4) is never shown to the judge.
    const calls = judgeCalls(before);
    expect(calls).toHaveLength(8);
    expect(calls.some((request) => answers(request).a === "same")).toBe(false);
    for (const [target, baseline] of [
      ["Blue. GOOD", "Red."],
      ["Hello.", "Hello. GOOD"],
      ["Something.", "Anything."],
      ["Drink water. GOOD", "Sleep."],
    ]) {
      const shown = calls.map(answers).filter(({ a, b }) => [a, b].includes(target!));
      expect(shown.map(({ a, b }) => [a, b])).toEqual([
        [target, baseline],
        [baseline, target],
      ]);
    }
    // The judge saw the whole instruction, its input included, and was asked for token probabilities.
    expect(calls.some((request) => answers(request).text.includes("Translate the text.\n\nBonjour"))).toBe(true);
    expect(calls.every((request) => request.body.logprobs === true && request.body.top_logprobs === 5 && request.body.temperature === 0)).toBe(true);

    // Soft preference per item: P(target's letter) / (P(A) + P(B)) per order, averaged. Item 1: 0.9/(0.9+0.09)
    // both orders; item 3: order 1 target is A, 0.6/(0.6+0.39); order 2 target is B, 0.39/(0.6+0.39): mean ½.
    const soft = ["1", "2", "3", "4", "5"].map((id) => byId.get(id)!.scores.winrate_judge!.metrics.soft_preference!);
    const strong = 0.9 / 0.99;
    expect(soft[0]).toBeCloseTo(strong, 12);
    expect(soft[1]).toBeCloseTo(1 - strong, 12);
    expect(soft[2]).toBeCloseTo(0.5, 12);
    expect(soft[3]).toBe(0.5);
    expect(soft[4]).toBeCloseTo(strong, 12);
    // Position evidence: the picks per order, the share naming the first-shown answer, and self-agreement.
    const item3 = byId.get("3")!.scores.winrate_judge!;
    expect(item3.data.picks).toEqual(["A", "A"]);
    expect([item3.metrics.first_position, item3.metrics.consistent]).toEqual([1, 0]);
    expect(byId.get("1")!.scores.winrate_judge!.data.picks).toEqual(["A", "B"]);
    expect([byId.get("1")!.scores.winrate_judge!.metrics.first_position, byId.get("1")!.scores.winrate_judge!.metrics.consistent]).toEqual([0.5, 1]);
    expect(byId.get("4")!.scores.winrate_judge!.metrics.first_position).toBeNull();
    // Lengths in characters, for the length-controlled win rate.
    expect(byId.get("5")!.scores.winrate_judge!.data).toMatchObject({ target_length: 17, baseline_length: 6, baseline_source: "baseline" });

    // Headline: the mean of [1, 0, ½, ½, 1] = 0.6; sd = √(0.70/4) = 0.418330; se = sd/√5 = 0.187083;
    // t(0.975, 4) = 2.776445, half-width 0.519428: [0.080572, 1.119428], clipped to the range [0, 1].
    const summary = JSON.parse(readFileSync(join(dir, "model", "summary.json"), "utf8"));
    const headline = summary.headlines.find((entry: { metric: string }) => entry.metric === "win");
    expect(headline.estimate).toBeCloseTo(0.6, 12);
    expect(headline.n).toBe(5);
    expect(headline.stderr).toBeCloseTo(0.187083, 5);
    expect(headline.ci95[0]).toBeCloseTo(0.080572, 5);
    expect(headline.ci95[1]).toBe(1);
    // Soft preference headline: mean of [s, 1 − s, ½, ½, s] with s = 0.9/0.99.
    const softHeadline = summary.headlines.find((entry: { metric: string }) => entry.metric === "soft_preference");
    expect(softHeadline.estimate).toBeCloseTo((strong + (1 - strong) + 0.5 + 0.5 + strong) / 5, 10);
    // First position over the four judged items: (½ + ½ + 1 + ½) / 4.
    const first = summary.headlines.find((entry: { metric: string }) => entry.metric === "first_position");
    expect(first.estimate).toBeCloseTo(0.625, 12);
    expect(first.n).toBe(4);
  });

  it("several targets are compared with one baseline answer per item: the baseline model is asked once", async () => {
    const dir = tempDir();
    const before = mock.requests.length;
    const outcome = await suiteRun({ dataset: alpacaFile(dir), models: ["target", "target2"], roles: { baseline: "counting-baseline" }, judge_model: "judge", output_dir: dir, run_id: "two" });
    expect(outcome.counts).toEqual({ ok: 10, error: 0 });
    const baselineCalls = mock.requests.slice(before).filter((request) => request.body.model === "counting-baseline" && !isPreflightRequest(request));
    expect(baselineCalls).toHaveLength(5);
    const all = readFileSync(join(dir, "two", "partials.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Row & { model_slug: string });
    for (const id of ["1", "2", "3", "4", "5"]) {
      const pair = all.filter((row) => row.test_id === id);
      const answers = pair.map((row) => row.transcript.find((call) => call.role === "baseline")!);
      expect(answers[0]!.response).toBe(answers[1]!.response);
      // One row made the call; the other recorded the shared answer.
      expect(answers.map((call) => call.model).sort()).toEqual(["counting-baseline", "shared:counting-baseline"]);
    }
  });

  it("with the items' stored outputs (Alpaca's output column): no baseline call, the same verdicts", async () => {
    const dir = tempDir();
    const before = mock.requests.length;
    const outcome = await suiteRun({ dataset: alpacaFile(dir, true), models: ["target"], judge_model: "judge", output_dir: dir, run_id: "item" });
    expect(outcome.counts).toEqual({ ok: 5, error: 0 });
    expect(mock.requests.slice(before).some((request) => request.body.model === "baseline")).toBe(false);
    const byId = rows(join(dir, "item"));
    expect(["1", "2", "3", "4", "5"].map((id) => byId.get(id)!.scores.winrate_judge!.value)).toEqual([1, 0, 0.5, 0.5, 1]);
    expect(byId.get("1")!.transcript.map((call) => call.role)).toEqual(["target"]);
    expect(byId.get("1")!.scores.winrate_judge!.data.baseline_source).toBe("item");
  });

  it("with stored outputs from a file or an earlier run: matched by id, recorded in the transcript; a missing id names it", async () => {
    const dir = tempDir();
    const baselineFile = join(dir, "baseline.jsonl");
    writeJsonl(baselineFile, [
      { id: 1, output: "Red." },
      { id: "2", output: "Hello. GOOD" },
      { id: "3", output: "Anything." },
      { id: "4", output: "same" },
    ]);
    const outcome = await suiteRun({ dataset: alpacaFile(dir), models: ["target"], plan_options: { baseline_outputs: baselineFile }, judge_model: "judge", output_dir: dir, run_id: "file" });
    expect(outcome.counts).toEqual({ ok: 4, error: 1 });
    const byId = rows(join(dir, "file"));
    expect(["1", "2", "3", "4"].map((id) => byId.get(id)!.scores.winrate_judge!.value)).toEqual([1, 0, 0.5, 0.5]);
    const stored = byId.get("2")!.transcript[1]!;
    expect([stored.role, stored.model, stored.response, stored.finish_reason]).toEqual(["baseline", `stored:${baselineFile}`, "Hello. GOOD", "stored"]);
    expect(byId.get("5")!.status).toBe("error");
    expect(byId.get("5")!.error).toContain(`${baselineFile} has no output for item "5"`);
    // A rejudge reads the stored answer from the transcript: the baseline file is not needed again.
    writeFileSync(baselineFile, "");
    await rejudge(join(dir, "file"), { env: {}, scoring: "again" });
    const rejudged = rows(join(dir, "file"));
    expect(["1", "2", "3", "4"].map((id) => rejudged.get(id)!.scores["again/winrate_judge"]!.value)).toEqual([1, 0, 0.5, 0.5]);

    // The target against its own earlier run (the run folder, its model picked by name): every pair is identical, so every item ties unjudged.
    const before = mock.requests.length;
    const again = await suiteRun({
      dataset: alpacaFile(dir),
      models: ["target"],
      plan_options: { baseline_outputs: join(dir, "file"), baseline_model: "target" },
      judge_model: "judge",
      base_url: mock.url,
      output_dir: dir,
      run_id: "self",
    });
    // Item 5 failed in that run (no output), so it has no stored answer here either.
    expect(again.counts).toEqual({ ok: 4, error: 1 });
    const self = rows(join(dir, "self"));
    expect(["1", "2", "3", "4"].map((id) => self.get(id)!.scores.winrate_judge!.label)).toEqual(["identical", "identical", "identical", "identical"]);
    expect(judgeCalls(before)).toHaveLength(0);
  });

  it("a judge whose API refuses log-probabilities is asked without them: the same verdicts, no soft preference", async () => {
    const dir = tempDir();
    const before = mock.requests.length;
    const outcome = await suiteRun({ dataset: alpacaFile(dir, true), models: ["target"], judge_model: "plain-judge", output_dir: dir, run_id: "plain", concurrency: 1 });
    expect(outcome.counts).toEqual({ ok: 5, error: 0 });
    const byId = rows(join(dir, "plain"));
    expect(["1", "2", "3", "4", "5"].map((id) => byId.get(id)!.scores.winrate_judge!.value)).toEqual([1, 0, 0.5, 0.5, 1]);
    expect(["1", "2", "3", "5"].map((id) => byId.get(id)!.scores.winrate_judge!.metrics.soft_preference)).toEqual([null, null, null, null]);
    // Refused once, then never asked again: 8 verdicts and the one refused request.
    const calls = judgeCalls(before);
    expect(calls.filter((request) => request.body.logprobs === true)).toHaveLength(1);
    expect(calls).toHaveLength(9);
  });

  it("refuses what it cannot compare: no baseline, two baselines, a judge that names neither answer", async () => {
    const dir = tempDir();
    const none = await suiteRun({ dataset: alpacaFile(dir), models: ["target"], judge_model: "judge", output_dir: dir, run_id: "none", limit: 1 });
    expect(none.counts).toEqual({ ok: 0, error: 1 });
    expect(rows(join(dir, "none")).get("1")!.error).toMatch(/item 1 has no baseline: pass --model-role baseline=M/);

    const file = join(dir, "b.csv");
    writeFileSync(file, "id,output\n1,Red.\n");
    const two = await suiteRun({
      dataset: alpacaFile(dir),
      models: ["target"],
      roles: { baseline: "baseline" },
      plan_options: { baseline_outputs: file },
      judge_model: "judge",
      output_dir: dir,
      run_id: "two",
      limit: 1,
    });
    expect(two.counts).toEqual({ ok: 0, error: 1 });
    expect(rows(join(dir, "two")).get("1")!.error).toMatch(/two baselines/);

    const mute = await suiteRun({ dataset: alpacaFile(dir), models: ["target"], roles: { baseline: "baseline" }, judge_model: "mute-judge", output_dir: dir, run_id: "mute", limit: 1 });
    expect(mute.counts).toEqual({ ok: 0, error: 1 });
    const score = rows(join(dir, "mute")).get("1")!.scores.winrate_judge!;
    expect([score.value, score.error]).toEqual([null, 'the win-rate judge did not answer A or B: "Both are fine."']);
  });
});
