import { cpSync, appendFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PartialsWriter } from "../../src/results/partials-writer.js";
import { reconcile } from "../../src/results/reconcile.js";
import { Redactor } from "../../src/results/redactor.js";
import type { ResultRow } from "../../src/results/record.js";
import { StateStore } from "../../src/results/state-store.js";
import { ResultColumns } from "../../src/results/result-columns.js";
import { writeResultFiles } from "../../src/results/result-files.js";
import { runFiles } from "../../src/results/run-folder.js";
import { builtinDeclaration } from "../../src/scorers/registry.js";
import { VERDICT_DECLARATION } from "../../src/scorers/verdict.js";
import { tempDir } from "../helpers/run-folder.js";
import { row as wholeRow } from "../helpers/run-store-conformance.js";

/** A whole row (rows are validated when read back), with the fields these tests vary. */
function row(key: string, attempt = 1, status: "ok" | "error" = "ok", text = "response"): ResultRow {
  return { ...wholeRow(key, attempt, status), error_type: status === "error" ? "server_error" : null, raw_candidate: text, transcript: [] };
}

describe("partials.jsonl and state.sqlite", () => {
  it("writes rows before marking them, in group commits", async () => {
    const dir = tempDir();
    const store = new StateStore(join(dir, "state.sqlite"));
    const writer = new PartialsWriter(join(dir, "partials.jsonl"), store, new Redactor(["sk-secret-value"]));
    const failed = { ...row("b", 1, "error"), error: "HTTP 401: key sk-secret-value refused" };
    await Promise.all([writer.append(row("a")), writer.append(failed), writer.append(row("c", 1, "ok", "leaks sk-secret-value"))]);
    await writer.close();
    expect(store.lookup("a")).toEqual({ status: "ok", attempts: 1, rowOffset: 0 });
    const firstLine = readFileSync(join(dir, "partials.jsonl"), "utf8").split("\n")[0]!;
    expect(store.lookup("b")).toEqual({ status: "error", attempts: 1, rowOffset: Buffer.byteLength(firstLine) + 1 });
    const { readRowAt } = await import("../../src/results/partials-reader.js");
    // Error messages are scrubbed of secrets; the model's response is its own text and is stored as it is.
    expect(readRowAt(join(dir, "partials.jsonl"), store.lookup("b")!.rowOffset!)).toMatchObject({ key: "b", error: "HTTP 401: key [REDACTED] refused" });
    expect(readRowAt(join(dir, "partials.jsonl"), store.lookup("c")!.rowOffset!)).toMatchObject({ key: "c", raw_candidate: "leaks sk-secret-value" });
    expect(store.partialsOffset()).toBe(statSync(join(dir, "partials.jsonl")).size);
    expect(failed.error).toBe("HTTP 401: key sk-secret-value refused"); // the caller's row is not modified
    store.close();
  });

  it("marks rows written after the last commit, and cuts a half-written last line", () => {
    const dir = tempDir();
    const file = join(dir, "partials.jsonl");
    const store = new StateStore(join(dir, "state.sqlite"));
    appendFileSync(file, JSON.stringify(row("a")) + "\n");
    store.commit([{ key: "a", status: "ok", attempt: 1, errorType: null, rowOffset: 0 }], statSync(file).size);
    // Written but never marked (killed between the write and the commit), then half a row.
    appendFileSync(file, JSON.stringify(row("b", 1, "error")) + "\n" + JSON.stringify(row("b", 2)) + "\n");
    const whole = statSync(file).size;
    appendFileSync(file, '{"key":"c","attempt":1,"sta');
    const report = reconcile(file, store);
    expect(report).toEqual({ recovered: 2, truncatedBytes: 27, rebuilt: false });
    expect(statSync(file).size).toBe(whole);
    expect(store.lookup("b")).toMatchObject({ status: "ok", attempts: 2 });
    expect(store.lookup("c")).toBeUndefined();
    expect(store.partialsOffset()).toBe(whole);
    // Idempotent.
    expect(reconcile(file, store)).toEqual({ recovered: 0, truncatedBytes: 0, rebuilt: false });
    store.close();
  });

  it("rebuilds the state from the file when the store is ahead of it", () => {
    const dir = tempDir();
    const file = join(dir, "partials.jsonl");
    const store = new StateStore(join(dir, "state.sqlite"));
    appendFileSync(file, JSON.stringify(row("x")) + "\n");
    store.commit([{ key: "ghost", status: "ok", attempt: 1, errorType: null, rowOffset: 0 }], 10_000);
    const report = reconcile(file, store);
    expect(report.rebuilt).toBe(true);
    expect(store.lookup("ghost")).toBeUndefined();
    expect(store.lookup("x")).toEqual({ status: "ok", attempts: 1, rowOffset: 0 });
    store.close();
  });

  it("never lets an older attempt overwrite a newer one", () => {
    const dir = tempDir();
    const store = new StateStore(join(dir, "state.sqlite"));
    store.commit([{ key: "k", status: "ok", attempt: 3, errorType: null, rowOffset: 100 }], 1);
    store.commit([{ key: "k", status: "error", attempt: 2, errorType: "timeout", rowOffset: 50 }], 2);
    expect(store.lookup("k")).toEqual({ status: "ok", attempts: 3, rowOffset: 100 });
    expect(store.retriedKeys()).toEqual(new Map([["k", 3]]));
    store.close();
  });
});

describe("result columns", () => {
  const verdictRow = (key: string, attack: 0 | 1): ResultRow =>
    ({
      schema_version: 2,
      run_id: "r",
      key,
      test_id: key,
      category: "c",
      persona_slug: "none",
      model_slug: "m",
      epoch: 1,
      attempt: 1,
      status: "ok",
      raw_candidate: "text",
      latency_ms: 5,
      usage: { input_tokens: 3, output_tokens: 4 },
      tags: null,
      dimensions: { test: key, persona: "none", model: "m", epoch: 1, strategy: "direct" },
      scores: {
        verdict: {
          value: attack,
          label: attack ? "attack succeeded" : "attack failed",
          raw: '{"overall":0.5}',
          error: null,
          metrics: { overall: 0.5, safety_score: 1 - attack },
          data: { id: key, overall: 0.5, attack_success: attack === 1, safety: { score: 1 - attack } },
          model: "judge",
          calls: 1,
          usage: { input_tokens: 10, output_tokens: 2 },
          latency_ms: 7,
        },
        refusal_match: { value: 1, label: "no refusal phrase", raw: null, error: null },
      },
    }) as unknown as ResultRow;
  const declarations = [VERDICT_DECLARATION, builtinDeclaration("refusal_match")!];

  it("derive the runner suite's seed columns from the verdict scorer's declaration", () => {
    const columns = new ResultColumns();
    columns.observe(verdictRow("a", 1));
    const list = columns.columns(declarations);
    const names = list.map((column) => column.name);
    for (const name of [
      "attack_success",
      "overall",
      "safety_score",
      "judge_model",
      "judge_calls",
      "judge_latency_ms",
      "judge_raw",
      "judge_json",
      "judge_usage",
      "judge_json.safety.score",
      "judge_json.attack_success",
      "judge_usage.input_tokens",
      "scores.refusal_match.value",
      "usage.input_tokens",
      "dimensions.strategy",
    ]) {
      expect(names).toContain(name);
    }
    // What a declared column holds is not repeated under scores.verdict.*; the scores JSON column keeps everything.
    // (The label has no declared column, so it keeps its own.)
    expect(names.filter((name) => name.startsWith("scores.verdict"))).toEqual(["scores.verdict.label"]);
    expect(names).not.toContain("dimensions.test");
    expect(new Set(names).size).toBe(names.length);
    const byName = new Map(list.map((column) => [column.name, column]));
    expect(byName.get("attack_success")!.type).toBe("BOOLEAN");
    expect(byName.get("overall")!.type).toBe("DOUBLE");
    expect(byName.get("judge_calls")!.type).toBe("INT32");
    const row = verdictRow("a", 1);
    expect(byName.get("attack_success")!.get(row)).toBe(true);
    expect(byName.get("attack_success")!.get(verdictRow("b", 0))).toBe(false);
    expect(byName.get("safety_score")!.get(row)).toBe(0);
    expect(byName.get("judge_json.safety.score")!.get(row)).toBe(0);
    expect(byName.get("judge_json")!.get(row)).toMatchObject({ id: "a", safety: { score: 0 } });
    expect(byName.get("judge_model")!.get(row)).toBe("judge");
    // Without the declarations (a scorer nobody declared) the same leaves stay under scores.
    expect(columns.columns([]).map((column) => column.name)).toContain("scores.verdict.data.safety.score");
  });

  it("read a 0.1 row and a 0.1 column snapshot the same way", () => {
    // A copy: opening the fixture's SQLite file, even read-only, would write its -shm file beside it.
    const fixture = join(tempDir(), "run-0.1");
    cpSync(join(import.meta.dirname, "../fixtures/run-0.1/results/run-0.1"), fixture, { recursive: true });
    const line = JSON.parse(readFileSync(join(fixture, "partials.jsonl"), "utf8").split("\n")[0]!) as ResultRow;
    const observed = new ResultColumns();
    observed.observe(line);
    const store = new StateStore(join(fixture, "state.sqlite"), { readonly: true });
    const restored = store.resultColumns();
    store.close();
    for (const columns of [observed, restored]) {
      const byName = new Map(columns.columns([VERDICT_DECLARATION]).map((column) => [column.name, column]));
      expect(byName.get("judge_json.safety.score")?.type).toBe("DOUBLE");
      expect(byName.has("judge_usage.input_tokens")).toBe(true);
      expect([...byName.keys()].filter((name) => name.startsWith("scores.verdict.data") || name.startsWith("scores.verdict.usage"))).toEqual([]);
    }
    // A restored snapshot survives another round trip in the new format.
    expect(
      ResultColumns.restore(restored.snapshot())
        .columns([VERDICT_DECLARATION])
        .map((column) => column.name),
    ).toEqual(restored.columns([VERDICT_DECLARATION]).map((column) => column.name));
  });

  it("write attack_success, overall, safety_score and judge_json.* into results.csv", async () => {
    const dir = tempDir();
    const files = runFiles(dir, "run");
    mkdirSync(files.folder, { recursive: true });
    const rows = [verdictRow("a", 1), verdictRow("b", 0)];
    const columns = new ResultColumns();
    for (const entry of rows) columns.observe(entry);
    async function* stream() {
      yield* rows;
    }
    expect(await writeResultFiles(files, stream(), columns.columns(declarations))).toBe(2);
    // Cells split on commas outside quotes (JSON columns hold commas).
    const cells = (line: string) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].map((match) => match[1]!).slice(0, -1);
    const [header, first, second] = readFileSync(files.csv, "utf8").trim().split("\n").map(cells);
    const at = (name: string) => header!.indexOf(name);
    expect(at("attack_success")).toBeGreaterThan(-1);
    expect(first![at("attack_success")]).toBe("true");
    expect(second![at("attack_success")]).toBe("false");
    expect(first![at("safety_score")]).toBe("0");
    expect(second![at("judge_json.safety.score")]).toBe("1");
    expect(first![at("overall")]).toBe("0.5");
  });
});
