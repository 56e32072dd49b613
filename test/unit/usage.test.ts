import { describe, expect, it } from "vitest";
import { UsageTally } from "../../src/metrics/usage.js";
import { usageWithCost } from "../../src/reports/run-report-blocks.js";
import { usageTotals } from "../../src/reports/usage-totals.js";
import { compileCheck } from "../../src/results/fast-check.js";
import { compactRow, RESULT_SCHEMA_VERSION, type ResultRow, type TranscriptCall } from "../../src/results/record.js";
import { resultRowSchema } from "../../src/results/record-schemas.js";

// Tokens and cost per (model, role), the judges' calls included, against values worked out by hand below.

const call = (role: string, model: string, input: number, output: number, latency: number | null): TranscriptCall => ({
  role,
  model,
  messages: [{ role: "user", content: `to ${role}` }],
  response: "ok",
  usage: { input_tokens: input, output_tokens: output },
  latency_ms: latency,
  finish_reason: "stop",
});

function row(key: string, fields: Partial<ResultRow>): ResultRow {
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    run_id: "r",
    key,
    dimensions: { test: key, persona: "none", model: "tgt", epoch: 1 },
    test_id: key,
    category: "c",
    subcategory: "",
    persona_slug: "none",
    model_slug: "tgt",
    epoch: 1,
    attempt: 1,
    source: "run",
    started_at: "2026-01-01T00:00:00Z",
    completed_at: "2026-01-01T00:00:01Z",
    messages: [{ role: "user", content: "hi" }],
    raw_candidate: "answer",
    finish_reason: "stop",
    generation: {},
    usage: null,
    latency_ms: null,
    transcript: [],
    expected_safe_behavior: null,
    attack_notes: null,
    item_judge_prompt: null,
    item_judge_schema: null,
    item_metadata: null,
    tags: null,
    scores: null,
    status: "ok",
    error: null,
    error_type: null,
    ...fields,
  };
}

const ROWS: ResultRow[] = [
  // A two-role plan (attacker, target, twice), judged with one repair: two judge calls on the verdict's score.
  row("a", {
    transcript: [call("attacker", "att", 10, 20, 100), call("target", "tgt", 30, 40, 200), call("attacker", "att", 5, 6, 300), call("target", "tgt", 7, 8, 400)],
    scores: {
      verdict: {
        value: 1,
        label: null,
        raw: "{}",
        error: null,
        model: "jdg",
        calls: 2,
        usage: { input_tokens: 220, output_tokens: 22 },
        transcript: [call("judge", "jdg", 100, 10, 50), call("judge", "jdg", 120, 12, 70)],
      },
      refusal_match: { value: 0, label: null, raw: null, error: null },
    },
  }),
  // A single call, stored compact (its usage and latency are the row's); a verdict written before calls were
  // recorded one by one (its summed usage only), and a classifier judge with one recorded call.
  compactRow(
    row("b", {
      usage: { input_tokens: 1, output_tokens: 2 },
      latency_ms: 10,
      transcript: [
        { role: "target", model: "tgt", messages: [{ role: "user", content: "hi" }], response: "answer", usage: { input_tokens: 1, output_tokens: 2 }, latency_ms: 10, finish_reason: "stop" },
      ],
      scores: {
        verdict: { value: 0, label: null, raw: "{}", error: null, model: "jdg", calls: 1, usage: { input_tokens: 50, output_tokens: 5 }, latency_ms: 30 },
        harmbench: { value: 0, label: null, raw: "No", error: null, model: "jdg", calls: 1, transcript: [call("judge", "jdg", 80, 1, 20)] },
      },
    }),
  ),
  // A target call that failed: a call, no tokens, no latency.
  row("c", { raw_candidate: null, status: "error", transcript: [{ ...call("target", "tgt", 0, 0, null), usage: null, response: null, error: "HTTP 500" }] }),
];

describe("usage per model and role", () => {
  const entries = (() => {
    const tally = new UsageTally();
    for (const entry of ROWS) tally.add(entry);
    return tally.build();
  })();

  it("counts every call of the plan and of each scorer, by (model, role, scorer)", () => {
    expect(entries.map(({ model, role, scorer, calls, input_tokens, output_tokens }) => [model, role, scorer, calls, input_tokens, output_tokens])).toEqual([
      ["att", "attacker", null, 2, 15, 26],
      ["jdg", "judge", "harmbench", 1, 80, 1],
      // 100 + 120 (row a's two calls) + 50 (row b's summed score); 10 + 12 + 5.
      ["jdg", "judge", "verdict", 3, 270, 27],
      // 30 + 7 (row a) + 1 (row b); 40 + 8 + 2; row c's failed call counts as a call.
      ["tgt", "target", null, 4, 38, 50],
    ]);
    // Latencies: attacker [100, 300]; verdict [30, 50, 70]; target [10, 200, 400] (nearest rank).
    expect(entries[0]!.latency_ms).toEqual({ mean: 200, p50: 300, p95: 300 });
    expect(entries[2]!.latency_ms).toEqual({ mean: 50, p50: 50, p95: 70 });
    expect(entries[3]!.latency_ms.mean).toBeCloseTo(610 / 3, 10);
    expect(entries[3]!.latency_ms.p50).toBe(200);
  });

  it("prices each model's tokens and totals them per model and over all, saying when a model had no price", () => {
    const rows = usageWithCost(entries, { tgt: { input: 1, output: 2 }, jdg: { input: 3, output: 4 } });
    // tgt: 38·1 + 50·2 = 138; harmbench: 80·3 + 1·4 = 244; verdict: 270·3 + 27·4 = 918 (per million tokens).
    expect(rows.map((entry) => entry.cost_usd)).toEqual([null, 244e-6, 918e-6, 138e-6]);
    const totals = usageTotals(rows);
    expect(totals.byModel.map(({ model, calls, input_tokens, output_tokens, cost_partial }) => [model, calls, input_tokens, output_tokens, cost_partial])).toEqual([
      ["att", 2, 15, 26, false],
      ["jdg", 4, 350, 28, false],
      ["tgt", 4, 38, 50, false],
    ]);
    expect(totals.byModel[0]!.cost_usd).toBeNull();
    expect(totals.byModel[1]!.cost_usd).toBeCloseTo(1162e-6, 12);
    expect(totals.all).toMatchObject({ calls: 10, input_tokens: 403, output_tokens: 104, cost_partial: true });
    expect(totals.all.cost_usd).toBeCloseTo(1300e-6, 12);
    expect(usageTotals(usageWithCost(entries, undefined)).all).toMatchObject({ cost_usd: null, cost_partial: false });
  });

  it("a score's recorded calls pass the row check, and a call without its messages does not", () => {
    const check = compileCheck(resultRowSchema);
    const stored = JSON.parse(JSON.stringify(compactRow(ROWS[0]!))) as { scores: { verdict: { transcript: Array<Record<string, unknown>> } } };
    expect(check(stored)).toBe(true);
    delete stored.scores.verdict.transcript[0]!.messages;
    expect(check(stored)).toBe(false);
    expect(resultRowSchema.safeParse(stored).error?.issues[0]?.path.join(".")).toBe("scores.verdict.transcript.0.messages");
  });
});
