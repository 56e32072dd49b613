import type { RunReport } from "../../src/reports/report-types.js";
import { metricOf, unique } from "./declared-metrics.js";
import { driftFindings } from "./drift-findings.js";
import { h, table } from "./dom.js";
import { byKind } from "./format.js";
import { section } from "./section-card.js";
import { trendChart } from "./trend-chart.js";

/** Which score S each suite metric's Drift Sensitivity Index uses (src/reports/drift-outputs.ts DSI_SCORES says the same). */
const DSI_SCORES: Record<string, string> = {
  drift_fidelity_dsi: "greedy next-token accuracy on the texts (the default)",
  drift_task_dsi: "the task's multiple-choice accuracy, by log-likelihood",
  drift_judge_dsi: "the judge's 0–1 grade of the answers",
};

/** One line saying which S each DSI headline of the run uses, when the run has another than the default. */
function dsiNote(run: RunReport): HTMLElement | null {
  const used = unique(run.summary.headlines.filter((headline) => headline.metric.startsWith("dsi_") && DSI_SCORES[headline.scorer]).map((headline) => headline.scorer));
  if (!used.some((scorer) => scorer !== "drift_fidelity_dsi")) return null;
  const parts = used.map((scorer) => `${scorer === "drift_fidelity_dsi" ? "Drift Sensitivity Index" : scorer === "drift_task_dsi" ? "DSI, task" : "DSI, judge score"}: S = ${DSI_SCORES[scorer]}`);
  return h("p", { class: "note dsi-scores" }, `DSI = (S_in − S_ood) / S_in per model. ${parts.join("; ")}.`);
}

/**
 * A run of checkpoints against a base model (a role `base`, as `alignbench drift` makes): every headline as a
 * curve over the checkpoints in the order they were given (the manifest's model order, not the summary's
 * sorted one), each point with its 95% interval, so the step where a number turns is visible; then, per
 * checkpoint, what the rows show behind the numbers (drift-findings.ts).
 */
export function driftSection(run: RunReport): HTMLElement | null {
  const base = run.manifest.roles?.base?.address;
  const headlines = run.summary.headlines;
  if (!base || (headlines.length === 0 && !run.drift)) return null;
  const checkpoints = run.manifest.models.map((model) => model.address).filter((address) => headlines.some((headline) => headline.model === address));
  const names = unique(headlines.map((headline) => headline.name));
  const value = (name: string, model: string) => headlines.find((headline) => headline.name === name && headline.model === model);
  const kindOf = (name: string) =>
    metricOf(
      run,
      headlines.find((headline) => headline.name === name),
    )?.kind;
  return section(
    "Drift across checkpoints",
    "drift",
    h("p", { class: "note" }, `Each checkpoint against the base model ${base}, in the order the checkpoints were given.`),
    dsiNote(run),
    table(
      ["#", "checkpoint", ...names],
      checkpoints.map((model, index) => [String(index + 1), model, ...names.map((name) => byKind(kindOf(name), value(name, model)))]),
      { class: "drift-table" },
    ),
    ...names.map((name) => trendChart(`${name} per checkpoint (95% CI)`, checkpoints, [{ name, values: checkpoints.map((model) => value(name, model)) }], kindOf(name))),
    ...(run.drift ? driftFindings(run.drift) : []),
  );
}
