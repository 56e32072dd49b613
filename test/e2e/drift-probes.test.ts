import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPlan, run, type Plan } from "../../src/index.js";
import type { RunSummary } from "../../src/metrics/summary.js";
import type { ResultRow } from "../../src/results/record.js";
import { ALIGNMENT_DECLARATION, runProbeDrift } from "../../src/runner/plans/drift-probes.js";
import { isPreflightRequest, startMockLlm, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir } from "../helpers/run-folder.js";

// The probe half of a drift run end to end, on the built-in probe set (suites/drift-probes.jsonl) as the
// run's one part `probes`: two checkpoints ("same", which answers exactly as the base, and "loose") against
// one base, through the one runner, with the drift_ars suite metric. The drift plan itself is the CLI's; a
// test plan here calls runProbeDrift for every row, as the drift plan does for the probes part.
//
// The mock models answer by the probe's id (found from its prompt):
//   base   refuses every harmful probe and honest-01 (so it is misaligned there), answers the rest;
//   same   as the base;
//   loose  complies with harm-01…04, refuses benign-01 and benign-02 (6 lost), answers honest-01 (gained),
//          and answers honest-02 with a false claim ("WRONG"), which only a judge can see.
// The mock judge reads the prompt's expectation and reply: aligned when a "decline" probe's reply refuses,
// or another probe's reply neither refuses nor holds WRONG.
// By hand, for loose: without a judge ARS = 57/63 (6 of the base's 63 aligned probes lost), aligned 58/64 vs
// 63/64; with the judge honest-02 is lost too: ARS = 56/63, aligned 57/64. For same: ARS = 1, no flips.

const PROBES = fileURLToPath(new URL("../../suites/drift-probes.jsonl", import.meta.url));
const probes = readFileSync(PROBES, "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { id: string; prompt: string });
const idOfPrompt = new Map(probes.map((probe) => [probe.prompt, probe.id]));

const REFUSAL = "I'm sorry, but I can't help with that.";
const HELP = "Sure: here is a helpful and accurate answer.";

function answer(model: string, id: string): string {
  const harmful = id.startsWith("harm-");
  const base = harmful || id === "honest-01" ? REFUSAL : HELP;
  if (model !== "loose") return base;
  if (["harm-01", "harm-02", "harm-03", "harm-04"].includes(id)) return "Sure, here are the steps you asked for.";
  if (id === "benign-01" || id === "benign-02") return REFUSAL;
  if (id === "honest-01") return HELP;
  if (id === "honest-02") return "Sure: WRONG, it takes three days.";
  return base;
}

const between = (text: string, start: string, end: string) => text.slice(text.indexOf(start) + start.length, text.indexOf(end, text.indexOf(start))).trim();

function judge(text: string): string {
  const reply = between(text, "ASSISTANT REPLY:\n<<<", ">>>");
  const refused = reply.startsWith("I'm sorry");
  const declineProbe = between(text, "What an aligned assistant does on this one:", "What the test's author").startsWith("decline");
  return (declineProbe ? refused : !refused && !reply.includes("WRONG")) ? "yes" : "no";
}

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm((request: MockRequest) => {
    if (isPreflightRequest(request)) return { reply: "OK" };
    const model = String(request.body.model);
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    if (model === "judge") return { reply: judge(messages[0]!.content) };
    const id = idOfPrompt.get(messages.at(-1)!.content);
    if (!id) return { status: 400, json: { error: { message: `unknown probe: ${messages.at(-1)!.content}` } } };
    return { reply: answer(model, id) };
  });
  const plan: Plan = { name: "test_drift_probes", description: "runProbeDrift on every row", roles: ["base"], scores: [ALIGNMENT_DECLARATION], run: runProbeDrift };
  registerPlan(plan);
});
afterAll(async () => mock.close());

function partials(folder: string): ResultRow[] {
  return readFileSync(join(folder, "partials.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ResultRow);
}

async function driftRun(runId: string, withJudge: boolean) {
  const dir = tempDir();
  const before = mock.requests.length;
  const outcome = await run(
    {
      datasets: [{ name: "probes", dataset: PROBES }],
      models: ["same", "loose"],
      roles: { base: "base" },
      ...(withJudge ? { judge_model: "judge" } : {}),
      plan: "test_drift_probes",
      scorers: ["response_stats"],
      suite_metrics: ["drift_ars"],
      base_url: mock.url,
      output_dir: dir,
      run_id: runId,
    },
    { env: {} },
  );
  const requests = mock.requests.slice(before).filter((request) => !isPreflightRequest(request));
  const summary = JSON.parse(readFileSync(join(outcome.folder, "summary.json"), "utf8")) as RunSummary;
  const scores = (model: string) => summary.breakdowns.find((entry) => entry.dimensions.join() === "model")!.groups.find((group) => group.by.model === model)!.scores;
  return { outcome, requests, rows: partials(outcome.folder), ars: (model: string) => scores(model).drift_ars!, scores };
}

describe("drift probes: the fine-tuned checkpoints and their base answer each probe, and drift_ars compares them", () => {
  it("without a judge: refusal decides; an identical checkpoint keeps every probe, the loose one loses six and gains one; the base answers each probe once", async () => {
    const { outcome, requests, rows, ars, scores } = await driftRun("heuristic", false);
    expect(outcome.counts).toEqual({ ok: 128, error: 0 });
    // The base answered each probe once for both checkpoints, and nobody asked a judge.
    expect(requests.filter((request) => request.body.model === "base")).toHaveLength(64);
    expect(requests.filter((request) => request.body.model === "judge")).toHaveLength(0);
    for (const row of rows) {
      expect(
        row.transcript.map((call) => call.role),
        row.key,
      ).toEqual(["target", "base"]);
      expect(row.scores!.alignment!.data).toMatchObject({ method: "refusal_string_match" });
    }
    expect(rows.flatMap((row) => row.transcript).filter((call) => call.role === "base" && call.finish_reason !== "stored")).toHaveLength(64);
    // A shared base answer is recorded as the base's, from the row that asked for it.
    const shared = rows.flatMap((row) => row.transcript).find((call) => call.role === "base" && call.finish_reason === "stored")!;
    expect(shared.model).toBe(`shared:${rows.find((row) => row.transcript[1]!.finish_reason !== "stored")!.transcript[1]!.model}`);

    const lostRow = rows.find((row) => row.model_slug === "loose" && row.test_id === "probes/harm-01")!;
    expect(lostRow.scores!.alignment).toMatchObject({ value: 0, label: "lost", metrics: { aligned_target: 0, aligned_base: 1, flip: -1 } });
    expect(lostRow.raw_candidate).toBe("Sure, here are the steps you asked for.");
    expect(rows.find((row) => row.model_slug === "same" && row.test_id === "probes/honest-01")!.scores!.alignment!.label).toBe("neither");

    expect(ars("same").ars).toMatchObject({ estimate: 1, n: 63, successes: 63 });
    expect(ars("same").flips_lost).toMatchObject({ successes: 0, items: { ids: [], total: 0 } });
    expect(ars("same").flips_gained).toMatchObject({ successes: 0, items: { ids: [], total: 0 } });
    expect(ars("loose").ars).toMatchObject({ estimate: 57 / 63, n: 63, successes: 57 });
    expect(ars("loose").ars!.ci95![0]).toBeCloseTo(0.8073829893716311, 12); // statsmodels' Wilson bound (see test/unit/drift-ars.test.ts)
    expect(ars("loose").aligned_target).toMatchObject({ estimate: 58 / 64, n: 64 });
    expect(ars("loose").aligned_base).toMatchObject({ estimate: 63 / 64, n: 64 });
    expect(ars("loose").flips_lost!.items).toEqual({ ids: ["probes/benign-01", "probes/benign-02", "probes/harm-01", "probes/harm-02", "probes/harm-03", "probes/harm-04"], total: 6 });
    expect(ars("loose").flips_gained!.items).toEqual({ ids: ["probes/honest-01"], total: 1 });
    // The plan's own score is summarised like a scorer's: the checkpoint's alignment rate, and its labels.
    expect(scores("loose").alignment!.alignment).toMatchObject({ estimate: 58 / 64, n: 64, labels: { kept: 57, lost: 6, gained: 1 } });
  });

  it("with a judge: the judge sees each probe's expectation and decides, catching the false answer the refusal match passes", async () => {
    const { outcome, requests, rows, ars } = await driftRun("judged", true);
    expect(outcome.counts).toEqual({ ok: 128, error: 0 });
    expect(requests.filter((request) => request.body.model === "base")).toHaveLength(64);
    // One verdict per target answer, one per base answer (shared like the answer).
    expect(requests.filter((request) => request.body.model === "judge")).toHaveLength(128 + 64);
    const judgeCall = requests.find((request) => request.body.model === "judge")!;
    expect(judgeCall.body.max_tokens).toBe(4);
    for (const row of rows) expect(row.scores!.alignment!.data).toMatchObject({ method: "judge" });
    const wrong = rows.find((row) => row.model_slug === "loose" && row.test_id === "probes/honest-02")!;
    expect(wrong.scores!.alignment).toMatchObject({ value: 0, label: "lost", raw: "no", data: { target_verdict: "no", base_verdict: "yes", expect: "answer" } });
    expect(wrong.transcript.map((call) => call.role)).toEqual(expect.arrayContaining(["target", "base", "judge"]));
    const judged = wrong.transcript.filter((call) => call.role === "judge");
    expect(judged).toHaveLength(2);
    expect(judged.some((call) => call.messages[0]!.content.includes("Sure: WRONG, it takes three days."))).toBe(true);

    expect(ars("same").ars).toMatchObject({ estimate: 1, n: 63 });
    expect(ars("loose").ars).toMatchObject({ estimate: 56 / 63, n: 63, successes: 56 });
    expect(ars("loose").aligned_target).toMatchObject({ estimate: 57 / 64 });
    expect(ars("loose").flips_lost!.items!.ids).toContain("probes/honest-02");
    expect(ars("loose").flips_lost!.items!.total).toBe(7);
  });
});
