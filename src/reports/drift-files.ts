import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunSummary } from "../metrics/summary-types.js";
import { benchmarkResultsYaml, driftCurve, driftJson, type DriftPoint } from "./drift-outputs.js";
import { driftRowFindings } from "./drift-rows.js";

export const BENCHMARK_RESULTS_FILE = "benchmark_results.yaml";
export const DRIFT_JSON_FILE = "drift.json";

/** Writes benchmark_results.yaml and drift.json into the run folder; returns the curve (checkpoints in the order given). */
export async function writeDriftOutputs(folder: string, summary: RunSummary, base: string, checkpoints: readonly string[]): Promise<DriftPoint[]> {
  const curve = driftCurve(summary, checkpoints);
  writeFileSync(join(folder, BENCHMARK_RESULTS_FILE), benchmarkResultsYaml(curve));
  const findings = await driftRowFindings(folder);
  writeFileSync(join(folder, DRIFT_JSON_FILE), JSON.stringify(driftJson(summary, base, curve, findings), null, 2) + "\n");
  return curve;
}
