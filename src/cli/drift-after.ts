import type { RunConfig } from "../config/schema.js";
import { BENCHMARK_RESULTS_FILE, DRIFT_JSON_FILE, writeDriftOutputs } from "../reports/drift-files.js";
import { renderDriftCurve } from "../reports/drift-outputs.js";
import type { RunOutcome } from "../runner/run.js";

/**
 * What a drift run adds after its summary, whichever command ran it (`alignbench drift`, or `alignbench run`
 * with plan drift): benchmark_results.yaml and drift.json in the run folder, and the drift curve on the
 * terminal. Written from whatever the run holds, also when it was interrupted.
 */
export function driftAfter(config: RunConfig): (outcome: RunOutcome) => Promise<{ text: string; files: string }> {
  return async (outcome) => {
    const curve = await writeDriftOutputs(outcome.folder, outcome.summary, config.roles.base ?? "(no base role)", config.models);
    return { text: renderDriftCurve(outcome.summary, curve), files: `${BENCHMARK_RESULTS_FILE}, ${DRIFT_JSON_FILE}` };
  };
}
