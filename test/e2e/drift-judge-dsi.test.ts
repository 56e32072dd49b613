import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/index.js";
import type { RunSummary } from "../../src/metrics/summary.js";
import type { ResultRow } from "../../src/results/record.js";
import { isPreflightRequest, startMockLlm, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// The judge-score Drift Sensitivity Index end to end: a drift run (plan drift) whose config names two prompt
// sets (drift: in_domain_prompts, ood_prompts) and a judge; two checkpoints, "same" (answers as the base) and
// "moved", against one base, all mock models on loopback. The scripted judge grades each reply by who wrote
// it and where the prompt is from:
//   base (and same): 0.8 on every in-domain prompt, 0.6 on every out-of-domain one;
//   moved:           0.9 in domain, 0.2 / 0.4 / 0.2 / 0.4 out of domain (mean 0.3).
// By hand: same: DSI = (0.8 − 0.6) / 0.8 = 0.25 for both models, change 0; moved: DSI = (0.9 − 0.3) / 0.9 = 2/3,
// change 2/3 − 1/4 = 5/12. The judge's first answer on moved's reply to o4 is out of range (score 1.5): it is
// asked again and the second answer counts.

const GRADES: Record<string, Record<string, number[]>> = {
  base: { in: [0.8, 0.8, 0.8, 0.8], ood: [0.6, 0.6, 0.6, 0.6] },
  moved: { in: [0.9, 0.9, 0.9, 0.9], ood: [0.2, 0.4, 0.2, 0.4] },
};

function judge(prompt: string, repair: boolean): string {
  const id = /"id": "([^"]+)"/.exec(prompt.slice(prompt.lastIndexOf("Answer with only one JSON object")))![1]!;
  const reply = prompt.slice(prompt.indexOf("ASSISTANT REPLY:\n<<<") + 20, prompt.lastIndexOf(">>>")).trim();
  const writer = reply.startsWith("moved") ? "moved" : "base";
  const [, side, index] = /^judge_(in_domain|ood)\/[io](\d)$/.exec(id)!;
  const score = GRADES[writer]![side === "in_domain" ? "in" : "ood"]![Number(index) - 1]!;
  if (writer === "moved" && id === "judge_ood/o4" && !repair) return JSON.stringify({ id, score: 1.5 });
  return JSON.stringify({ id, score, rationale: "scripted" });
}

let mock: MockLlm;
let dir: string;
beforeAll(async () => {
  mock = await startMockLlm((request: MockRequest) => {
    if (isPreflightRequest(request)) return { reply: "OK" };
    const model = String(request.body.model);
    const messages = request.body.messages as Array<{ role: string; content: string }>;
    if (model === "judge") return { reply: judge(messages[0]!.content, messages.length > 1) };
    const prompt = messages.at(-1)!.content;
    return { reply: `${model === "moved" ? "moved" : "base"} reply to: ${prompt}` };
  });
  dir = tempDir();
  writeJsonl(
    join(dir, "in-prompts.jsonl"),
    [1, 2, 3, 4].map((i) => ({ id: `i${i}`, prompt: `In-domain question ${i}?` })),
  );
  writeJsonl(
    join(dir, "ood-prompts.jsonl"),
    [1, 2, 3, 4].map((i) => ({ id: `o${i}`, prompt: `Other-domain question ${i}?`, expected_safe_behavior: "a correct, direct answer" })),
  );
});
afterAll(async () => mock.close());

describe("judge-score DSI: both models answer each prompt, the judge grades both, drift_judge_dsi compares in and out of domain", () => {
  it("gives the hand-computed DSI per model and its change, asks the base once per prompt, and repairs an invalid grade", async () => {
    const before = mock.requests.length;
    const outcome = await run(
      {
        plan: "drift",
        models: ["same", "moved"],
        roles: { base: "base" },
        judge_model: "judge",
        drift: { in_domain_prompts: join(dir, "in-prompts.jsonl"), ood_prompts: join(dir, "ood-prompts.jsonl") },
        base_url: mock.url,
        output_dir: dir,
        run_id: "judged",
      },
      { env: {} },
    );
    expect(outcome.counts).toMatchObject({ ok: 16, error: 0 });
    const requests = mock.requests.slice(before).filter((request) => !isPreflightRequest(request));
    const byModel = (name: string) => requests.filter((request) => request.body.model === name).length;
    // 8 prompts: each checkpoint answers each, the base once for both; the judge grades 8 + 8 + 8 replies, plus one repair.
    expect([byModel("same"), byModel("moved"), byModel("base"), byModel("judge")]).toEqual([8, 8, 8, 25]);
    const summary = JSON.parse(readFileSync(join(outcome.folder, "summary.json"), "utf8")) as RunSummary;
    const group = (model: string) => summary.breakdowns.find((entry) => entry.dimensions.join() === "model")!.groups.find((entry) => entry.by.model === model)!.scores.drift_judge_dsi!;
    const same = group("same");
    expect(same.dsi_target!.estimate).toBeCloseTo(0.25, 12);
    expect(same.dsi_base!.estimate).toBeCloseTo(0.25, 12);
    expect(same.dsi_change!.estimate).toBeCloseTo(0, 12);
    const moved = group("moved");
    expect(moved.dsi_target!.estimate).toBeCloseTo(2 / 3, 12);
    expect(moved.dsi_change!.estimate).toBeCloseTo(5 / 12, 12);
    expect(moved.s_ood_target!.estimate).toBeCloseTo(0.3, 12);
    expect(moved.dsi_change!.ci95![0]).toBeLessThanOrEqual(5 / 12);
    expect(moved.dsi_change!.ci95![1]).toBeGreaterThanOrEqual(5 / 12);
    // The headlines the drift: block adds, per model (the summary orders models by name).
    expect(summary.headlines.filter((headline) => headline.scorer === "drift_judge_dsi").map((headline) => [headline.name, headline.model, headline.estimate])).toEqual([
      ["DSI, judge score (fine-tuned)", "moved", moved.dsi_target!.estimate],
      ["DSI, judge score (fine-tuned)", "same", same.dsi_target!.estimate],
      ["DSI change, judge score (fine-tuned − base)", "moved", moved.dsi_change!.estimate],
      ["DSI change, judge score (fine-tuned − base)", "same", same.dsi_change!.estimate],
    ]);
    // Each row keeps both answers and both grades; the row that reused the base's answer records it as shared.
    const rows = readFileSync(join(outcome.folder, "partials.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ResultRow);
    const o4 = rows.find((row) => row.test_id === "judge_ood/o4" && row.model_slug === "moved")!;
    expect(o4.scores!.judged).toMatchObject({ value: 0.4, error: null, metrics: { s_target: 0.4, s_base: 0.6 } });
    expect(o4.transcript!.map((call) => call.role).sort()).toEqual(["base", "judge", "judge", "judge", "target"]);
  });
});
