// What validating rows on read costs: streams N synthetic partials.jsonl rows through the reader every
// bulk reader uses (finalize, report, compare, the viewer's index), and times JSON.parse alone beside it.
// Usage: npx tsc -p tsconfig.build.json && node bench/row-validation.mjs [ROWS=100000] [VERSION=2]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPartialRows } from "../dist/results/partials-reader.js";

const rows = Number(process.argv[2] ?? 100_000);
const version = Number(process.argv[3] ?? 2);
const REPEATS = 5;

function rowV2(i) {
  const messages = [
    { role: "system", content: "You are a helpful assistant. ".repeat(4) },
    { role: "user", content: `Question ${i}: how do I do the thing described here? `.repeat(3) },
  ];
  const response = `An answer of moderate length to question ${i}. `.repeat(6);
  return {
    schema_version: 2,
    run_id: "bench",
    key: `t-${i}|none|openai:gpt-4.1|1`,
    dimensions: { test: `t-${i}`, persona: "none", model: "openai:gpt-4.1", epoch: 1 },
    test_id: `t-${i}`,
    category: ["harmful", "benign", "privacy"][i % 3],
    subcategory: "",
    persona_slug: "none",
    model_slug: "openai:gpt-4.1",
    epoch: 1,
    attempt: 1,
    source: "run",
    started_at: "2026-12-03T08:30:37.917Z",
    completed_at: "2026-12-03T08:30:38.016Z",
    messages,
    raw_candidate: response,
    finish_reason: "stop",
    generation: { temperature: 0 },
    usage: { input_tokens: 80, output_tokens: 60 },
    latency_ms: 412.5,
    // As partials.jsonl stores it: the call's messages and response are the row's own (compactRow).
    transcript: [{ role: "target", model: "openai:gpt-4.1", usage: { input_tokens: 80, output_tokens: 60 }, latency_ms: 412.5, finish_reason: "stop" }],
    expected_safe_behavior: "Refuse.",
    attack_notes: null,
    item_judge_prompt: null,
    item_judge_schema: null,
    item_metadata: null,
    tags: { label: i % 2 ? "safe" : "unsafe" },
    scores: {
      verdict: {
        value: i % 5 === 0 ? 1 : 0,
        label: null,
        raw: '{"overall":0.9,"attack_success":false,"safety":{"score":0.95}}',
        error: null,
        metrics: { overall: 0.9, safety_score: 0.95 },
        data: { overall: 0.9, attack_success: false, safety: { score: 0.95, subscores: { toxicity: 0, harmful_assistance: 0 } } },
        model: "openai:gpt-4.1-mini",
        calls: 1,
        usage: { input_tokens: 390, output_tokens: 32 },
        latency_ms: 36.6,
      },
      refusal: { value: 1, label: "refusal", raw: null, error: null },
    },
    status: "ok",
    error: null,
    error_type: null,
  };
}

function rowV1(i) {
  const { dimensions: _d, transcript: _t, scores: _s, ...rest } = rowV2(i);
  return {
    ...rest,
    schema_version: 1,
    judge_model: "judge",
    judge_raw: '{"overall":0.9,"attack_success":false,"safety":{"score":0.95}}',
    judge_json: { overall: 0.9, attack_success: false, safety: { score: 0.95 } },
    judge_calls: 1,
    judge_usage: { input_tokens: 390, output_tokens: 32 },
    judge_latency_ms: 36.6,
    attack_success: false,
    overall: 0.9,
    safety_score: 0.95,
    scores: null,
  };
}

const dir = mkdtempSync(join(tmpdir(), "alignbench-bench-"));
const file = join(dir, "partials.jsonl");
const make = version === 1 ? rowV1 : rowV2;
const lines = [];
for (let i = 0; i < rows; i++) lines.push(JSON.stringify(make(i)));
writeFileSync(file, lines.join("\n") + "\n");

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The check alone, on rows already parsed (absent from builds before rows were validated).
const schemas = await import("../dist/results/record-schemas.js").catch(() => undefined);
const parsed = lines.map((line) => JSON.parse(line));
const checkOnly = [];
const parseOnly = [];
const reader = [];
for (let repeat = 0; repeat < REPEATS; repeat++) {
  let start = performance.now();
  let n = 0;
  for (const line of lines) if (JSON.parse(line)) n++;
  parseOnly.push(performance.now() - start);
  if (schemas) {
    start = performance.now();
    for (const row of parsed) schemas.validateRow(file, 1, row, 2);
    checkOnly.push(performance.now() - start);
  }
  start = performance.now();
  let read = 0;
  for await (const _row of readPartialRows(file)) read++;
  reader.push(performance.now() - start);
  if (read !== rows || n !== rows) throw new Error(`read ${read} of ${rows} rows`);
}
rmSync(dir, { recursive: true, force: true });
const perRow = (ms) => ((ms * 1000) / rows).toFixed(2);
console.log(`${rows} version ${version} rows, ${(lines.reduce((sum, line) => sum + line.length + 1, 0) / 1e6).toFixed(1)} MB; median of ${REPEATS}`);
console.log(`JSON.parse alone:          ${median(parseOnly).toFixed(0).padStart(6)} ms  ${perRow(median(parseOnly))} µs/row`);
if (schemas) console.log(`validateRow alone:         ${median(checkOnly).toFixed(0).padStart(6)} ms  ${perRow(median(checkOnly))} µs/row`);
console.log(`readPartialRows (stream):  ${median(reader).toFixed(0).padStart(6)} ms  ${perRow(median(reader))} µs/row`);
