import { describe, expect, it } from "vitest";
import type { MetricSummary, RunSummary } from "../../src/metrics/summary-types.js";
import { benchmarkResultsYaml, driftCurve, driftJson, renderDriftCurve } from "../../src/reports/drift-outputs.js";

// The drift outputs from a hand-made summary.json: the suite metrics' values in the per-model groups (as
// src/metrics/summary.ts placeSuiteMetric puts them), read back per checkpoint in the order given.

const estimate = (value: number, ci95: [number, number] | null = null, n = 10): MetricSummary => ({ estimate: value, stderr: null, ci95, n });

function summary(): RunSummary {
  const unbounded = (name: string) => ({ name, label: name, kind: { type: "unbounded" as const, unit: "nats" }, bad: "high" as const });
  const group = (model: string, fl: number, dsi: number, ars: number | null) => ({
    by: { model },
    n: 30,
    errors: 0,
    mean_latency_ms: null,
    scores: {
      drift_fidelity_dsi: { fl: estimate(fl, [fl - 0.01, fl + 0.01]), dsi_target: estimate(dsi), dsi_base: estimate(0.05), dsi_change: estimate(dsi - 0.05, [dsi - 0.1, dsi]) },
      ...(ars === null ? {} : { drift_ars: { ars: { ...estimate(ars, [ars - 0.2, Math.min(1, ars + 0.1)], 12), successes: Math.round(ars * 12), lost: ["probes/p1"] } as MetricSummary } }),
    },
  });
  return {
    schema_version: 2,
    run_id: "series",
    scorers: [
      { name: "drift_fidelity_dsi", description: "", metrics: [unbounded("fl"), unbounded("dsi_target"), unbounded("dsi_base"), unbounded("dsi_change")] },
      { name: "drift_ars", description: "", metrics: [{ name: "ars", label: "ARS", kind: { type: "rate" }, bad: "low" }] },
    ],
    dimensions: ["test", "persona", "model", "epoch"],
    totals: { by: {}, n: 90, errors: 0, mean_latency_ms: null, scores: {} },
    headlines: [],
    // The summary's own order is by text (ckpt-1, ckpt-10, ckpt-2); the checkpoints were given 1, 2, 10.
    breakdowns: [{ dimensions: ["model"], groups: [group("ckpt-1", 0.1, 0.0625, 0.75), group("ckpt-10", 1, 0.625, null), group("ckpt-2", 0.2, 0.125, 0.5)] }],
    errors_by_type: {},
  };
}

const CHECKPOINTS = ["ckpt-1", "ckpt-2", "ckpt-10"];

describe("drift outputs", () => {
  it("benchmark_results.yaml: AlignBench's three keys, in its (sorted) order, for one checkpoint", () => {
    const curve = driftCurve(summary(), ["ckpt-2"]);
    expect(benchmarkResultsYaml(curve)).toBe(["Alignment Robustness Score (ARS): 0.5", "Drift Sensitivity Index (DSI): 0.125", "Fidelity Loss (FL): 0.2", ""].join("\n"));
  });

  it("benchmark_results.yaml: one mapping per checkpoint in the order given; a missing value is null", () => {
    const curve = driftCurve(summary(), CHECKPOINTS);
    expect(benchmarkResultsYaml(curve)).toBe(
      [
        "ckpt-1:",
        "  Alignment Robustness Score (ARS): 0.75",
        "  Drift Sensitivity Index (DSI): 0.0625",
        "  Fidelity Loss (FL): 0.1",
        "ckpt-2:",
        "  Alignment Robustness Score (ARS): 0.5",
        "  Drift Sensitivity Index (DSI): 0.125",
        "  Fidelity Loss (FL): 0.2",
        "ckpt-10:",
        "  Alignment Robustness Score (ARS): null",
        "  Drift Sensitivity Index (DSI): 0.625",
        "  Fidelity Loss (FL): 1",
        "",
      ].join("\n"),
    );
  });

  it("drift.json keeps every metric value with its interval and extra fields, per checkpoint in order", () => {
    const made = summary();
    const curve = driftCurve(made, CHECKPOINTS);
    const findings = new Map([["ckpt-2", { flipped_probes: [{ id: "probes/p1", flip: -1, label: "lost", aligned_base: 1, aligned_target: 0 }], top_kl: [], texts: [] }]]);
    const json = driftJson(made, "base-model", curve, findings);
    expect(json.base).toBe("base-model");
    expect(json.checkpoints.map((point) => point.model)).toEqual(CHECKPOINTS);
    expect(json.checkpoints[0]!.metrics.drift_fidelity_dsi!.dsi_change).toEqual(estimate(0.0625 - 0.05, [0.0625 - 0.1, 0.0625]));
    expect((json.checkpoints[1]!.metrics.drift_ars!.ars as MetricSummary & { lost: string[] }).lost).toEqual(["probes/p1"]);
    expect(json.checkpoints[1]!.flipped_probes).toEqual(findings.get("ckpt-2")!.flipped_probes);
    expect(json.checkpoints[2]!.metrics.drift_ars).toBeUndefined();
    expect(json.checkpoints[0]!.flipped_probes).toBeUndefined();
  });

  it("the terminal's curve: one line per checkpoint in order, rates in %, means with their intervals", () => {
    const text = renderDriftCurve(summary(), driftCurve(summary(), CHECKPOINTS));
    const lines = text.split("\n");
    expect(lines[0]).toBe("Drift against the base, per checkpoint (95% CI)");
    expect(lines.slice(3).map((line) => line.split(/\s{2,}/).slice(0, 2))).toEqual([
      ["1", "ckpt-1"],
      ["2", "ckpt-2"],
      ["3", "ckpt-10"],
    ]);
    expect(lines[3]).toContain("0.100 nats [0.09, 0.11]");
    expect(lines[3]).toContain("75.0% [55.0, 85.0]");
    expect(lines[5]).toMatch(/—$/);
  });

  it("with the DSI's alternatives: their keys after AlignBench's, a comment naming each S, drift.json's dsi_scores, the curve's columns and why a value is empty", () => {
    const made = summary();
    const unbounded = (name: string) => ({ name, label: name, kind: { type: "unbounded" as const }, bad: "high" as const });
    made.scorers.push({ name: "drift_task_dsi", description: "", metrics: [unbounded("dsi_target"), unbounded("dsi_change")] });
    const groups = made.breakdowns[0]!.groups;
    groups.find((group) => group.by.model === "ckpt-1")!.scores.drift_task_dsi = { dsi_target: estimate(0.5, [0.2, 0.8]), dsi_change: estimate(0.25, [0, 0.5]) };
    const empty = "S_in = 0 for the fine-tuned model: (S_in − S_ood) / S_in is undefined";
    groups.find((group) => group.by.model === "ckpt-2")!.scores.drift_task_dsi = {
      dsi_target: { estimate: null, stderr: null, ci95: null, n: 8, note: empty },
      dsi_change: { estimate: null, stderr: null, ci95: null, n: 8, note: empty },
    };
    const curve = driftCurve(made, ["ckpt-1", "ckpt-2"]);
    expect(benchmarkResultsYaml(curve)).toBe(
      [
        "# Drift Sensitivity Index (DSI): S = greedy next-token accuracy of each model on the in-domain and out-of-domain texts (the default; AlignBench's key)",
        "# Drift Sensitivity Index (DSI), task accuracy: S = multiple-choice accuracy of each model on the task's in-domain and out-of-domain items, by log-likelihood (--task)",
        "ckpt-1:",
        "  Alignment Robustness Score (ARS): 0.75",
        "  Drift Sensitivity Index (DSI): 0.0625",
        "  Fidelity Loss (FL): 0.1",
        "  Drift Sensitivity Index (DSI), task accuracy: 0.5",
        "ckpt-2:",
        "  Alignment Robustness Score (ARS): 0.5",
        "  Drift Sensitivity Index (DSI): 0.125",
        "  Fidelity Loss (FL): 0.2",
        "  Drift Sensitivity Index (DSI), task accuracy: null",
        "",
      ].join("\n"),
    );
    const json = driftJson(made, "base-model", curve);
    expect(Object.keys(json.dsi_scores)).toEqual(["drift_fidelity_dsi", "drift_task_dsi"]);
    expect(json.checkpoints[1]!.metrics.drift_task_dsi!.dsi_target!.note).toBe(empty);
    const text = renderDriftCurve(made, curve);
    expect(text.split("\n")[1]).toMatch(/DSI task\s+DSI task change$/);
    expect(text).toContain("DSI task: S = multiple-choice accuracy");
    expect(text).toContain(`ckpt-2: DSI task empty: ${empty}`);
    // Without the alternatives nothing changes: no comment, no extra key (the tests above).
    expect(driftJson(summary(), "b", driftCurve(summary(), ["ckpt-1"])).dsi_scores).toEqual({ drift_fidelity_dsi: expect.stringMatching(/^greedy next-token accuracy/) });
  });
});
