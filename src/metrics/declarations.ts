import { runPrices } from "./prices.js";
import type { Manifest } from "../results/manifest.js";
import { BASE_DIMENSIONS } from "../results/record.js";
import { builtinDeclaration, checkScorer } from "../scorers/registry.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import { VERDICT_DECLARATION } from "../scorers/verdict.js";
import type { CheckDefinition } from "../scorers/checks.js";
import type { HeadlineDefinition, SummaryOptions } from "./summary.js";
import type { SuiteMetricReference } from "./suite-metrics/types.js";

/**
 * What a run folder's scorers measure: the declarations its manifest keeps, or, for a folder written
 * by 0.1 (which names its scorers but does not describe them), the built-in declarations of those names,
 * its config's checks, and the verdict judge (0.1's `judge`) when it had one. A name none of these know
 * is left out: the summary reads its scores as unbounded means.
 */
export function runDeclarations(manifest: Pick<Manifest, "scorers" | "scorer_declarations" | "judge" | "config">): ScorerDeclaration[] {
  if (manifest.scorer_declarations && manifest.scorer_declarations.length > 0) return manifest.scorer_declarations;
  const out: ScorerDeclaration[] = [];
  const add = (declaration: ScorerDeclaration | undefined) => {
    if (declaration && !out.some((entry) => entry.name === declaration.name)) out.push(declaration);
  };
  const checks = (manifest.config.checks as CheckDefinition[] | undefined) ?? [];
  // 0.1 listed only the scorers besides the verdict judge, which ran first when there was a judge model and
  // `scorers` was empty or named it.
  const configured = (manifest.config.scorers as string[] | undefined) ?? [];
  if (manifest.judge && (configured.length === 0 || configured.includes("verdict"))) add(VERDICT_DECLARATION);
  const names = manifest.scorers?.map((scorer) => scorer.name) ?? [];
  for (const name of names) {
    if (name === "judge" || name === "verdict") add(VERDICT_DECLARATION);
    else {
      const check = checks.find((definition) => definition.name === name);
      add(check ? checkScorer(check).declaration : builtinDeclaration(name));
    }
  }
  return out;
}

/** The summary options a run folder was (or would be) summarised with, from its manifest. */
export function runSummaryOptions(manifest: Pick<Manifest, "scorers" | "scorer_declarations" | "judge" | "config" | "dimensions"> & Partial<Pick<Manifest, "models" | "roles">>): SummaryOptions {
  const config = manifest.config;
  return {
    scorers: runDeclarations(manifest),
    dimensions: manifest.dimensions ?? [...BASE_DIMENSIONS],
    headlines: (config.headlines as HeadlineDefinition[] | undefined) ?? [],
    clusterBy: config.cluster_by as string | undefined,
    groupBy: config.group_by as string[] | undefined,
    suiteMetrics: config.suite_metrics as SuiteMetricReference[] | undefined,
    // Costs at the run's prices (the user's, the table's, free for local models).
    ...(manifest.models ? { prices: runPrices({ models: manifest.models, roles: manifest.roles ?? {}, config }) } : {}),
  };
}
