import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runStandin, writeDriftInputs } from "../helpers/drift-standin.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";

// A three-checkpoint drift series through `alignbench drift`, killed with SIGKILL twice and resumed, with
// THIN STAND-INS for the pieces built on other branches (test/helpers/drift-standin-cli.mjs: the plan's
// computations, the record format and the two suite metrics give exact made-up values from the checkpoint's
// number). What is tested is this branch's: the command's run config, the run through the runner (resumable),
// the curve in the order the checkpoints were given, benchmark_results.yaml and drift.json.

const TEXTS = 20;
const PROBES = 12;
const CHECKPOINTS = ["mock-ckpt-1", "mock-ckpt-2", "mock-ckpt-10"];
const TOTAL = CHECKPOINTS.length * (2 * TEXTS + PROBES);

function lineCount(file: string): number {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm(() => ({ reply: "An answer." }), { latencyMs: 10 });
});
afterAll(async () => mock.close());

describe("alignbench drift: a checkpoint series", () => {
  it("resumes after SIGKILL, loses no row, and orders its curve as the checkpoints were given", async () => {
    const dir = tempDir();
    const inputs = writeDriftInputs(dir, TEXTS, PROBES);
    const args = [
      "drift",
      "--base",
      "mock-base",
      "--finetuned",
      CHECKPOINTS.join(","),
      ...inputs,
      "--base-url",
      mock.url,
      "--output-dir",
      dir,
      "--run-id",
      "series",
      "--concurrency",
      "4",
      "--no-progress",
    ];
    const partials = join(dir, "series", "partials.jsonl");
    for (const stopAt of [10, 60]) {
      const killed = await runStandin(args, (child) => {
        const timer = setInterval(() => {
          if (lineCount(partials) >= stopAt) {
            clearInterval(timer);
            child.kill("SIGKILL");
          }
        }, 5);
        child.on("close", () => clearInterval(timer));
      });
      expect(killed.signal, killed.stderr).toBe("SIGKILL");
    }
    const done = await runStandin(args);
    expect(done.code, done.stderr).toBe(0);

    // Every key once in the final rows (a key may have several attempts in partials, the latest wins).
    const keys = new Set(readPartials(join(dir, "series")).map((row) => row.key));
    expect(keys.size).toBe(TOTAL);

    // The terminal's curve lists the checkpoints in the order given (1, 2, 10: not the text order 1, 10, 2).
    const curveText = done.stdout.slice(done.stdout.indexOf("Drift against the base"));
    const order = CHECKPOINTS.map((model) => curveText.indexOf(model));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // benchmark_results.yaml: AlignBench's three keys per checkpoint, in order, with the stand-ins' exact values:
    // FL = K/10; DSI = (0.8 − (0.8 − K/20)) / 0.8 = K/16; ARS = (12 − K)/12, or 0 when K ≥ 12.
    const results = parse(readFileSync(join(dir, "series", "benchmark_results.yaml"), "utf8")) as Record<string, Record<string, number>>;
    expect(Object.keys(results)).toEqual(CHECKPOINTS);
    for (const model of CHECKPOINTS) {
      const k = Number(model.split("-").pop());
      expect(Object.keys(results[model]!)).toEqual(["Alignment Robustness Score (ARS)", "Drift Sensitivity Index (DSI)", "Fidelity Loss (FL)"]);
      expect(results[model]!["Fidelity Loss (FL)"]).toBeCloseTo(k / 10, 12);
      expect(results[model]!["Drift Sensitivity Index (DSI)"]).toBeCloseTo(k / 16, 12);
      expect(results[model]!["Alignment Robustness Score (ARS)"]).toBeCloseTo((PROBES - Math.min(k, PROBES)) / PROBES, 12);
    }

    // drift.json: the same order, the base, the intervals, the flipped probes and the largest-KL positions.
    const drift = JSON.parse(readFileSync(join(dir, "series", "drift.json"), "utf8"));
    expect(drift.base).toBe("mock-base");
    expect(drift.checkpoints.map((point: { model: string }) => point.model)).toEqual(CHECKPOINTS);
    const second = drift.checkpoints[1];
    expect(second.metrics.drift_ars.ars.n).toBe(PROBES);
    expect(second.metrics.drift_ars.ars.ci95).toHaveLength(2);
    expect(second.flipped_probes.map((probe: { id: string }) => probe.id).sort()).toEqual(["probes/p0", "probes/p1"]);
    expect(second.flipped_probes[0].flip).toBe(-1);
    expect(second.texts).toHaveLength(2 * TEXTS);
    expect(second.top_kl).toHaveLength(20);
    // Out-of-domain texts have the larger stand-in KL (K/5 + 0.01), so they fill the top.
    expect(second.top_kl[0].kl).toBeCloseTo(2 / 5 + 0.01, 12);
    expect(second.top_kl.every((entry: { part: string }) => entry.part === "ood")).toBe(true);
    // The run is the drift suite's: its manifest records the plan and the base role.
    const manifest = JSON.parse(readFileSync(join(dir, "series", "manifest.json"), "utf8"));
    expect(JSON.stringify(manifest)).toContain('"drift"');
  }, 180_000);

  it("scores its rows itself: no verdict judge with --judge-model, no response statistics without", async () => {
    const dir = tempDir();
    const inputs = writeDriftInputs(dir, 2, 2);
    for (const [runId, judge] of [
      ["judged", ["--judge-model", "mock-judge"]],
      ["unjudged", []],
    ] as const) {
      const done = await runStandin([
        "drift",
        "--base",
        "mock-base",
        "--finetuned",
        "mock-ckpt-1",
        ...inputs,
        "--base-url",
        mock.url,
        "--output-dir",
        dir,
        "--run-id",
        runId,
        "--no-progress",
        ...judge,
      ]);
      expect(done.code, done.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(dir, runId, "summary.json"), "utf8")) as { scorers: Array<{ name: string }> };
      expect(summary.scorers.map((scorer) => scorer.name).sort()).toEqual(["alignment", "drift_ars", "drift_fidelity_dsi", "fidelity"]);
    }
  }, 60_000);
});
