import type { ResolvedModel } from "../providers/registry.js";
import type { GenerationOptions } from "../providers/types.js";
import type { CallPolicies } from "./prepare.js";
import { preflight, type PreflightResult } from "./preflight.js";
import type { RunReporter } from "./reporter.js";

/**
 * The preflight of a command that calls a judge alone (`rejudge`, `judge-eval`): the same one short call as
 * `run` makes per model, before any item, so a refused key, an unknown model or an unreachable endpoint stops
 * the command at once (a UserError, exit 2) instead of failing every item with it. A local judge is loaded
 * now: its load is its check, as in `run`. The caller records the results in run.log.
 */
export async function preflightJudge(
  policies: CallPolicies,
  address: string,
  resolved: ResolvedModel,
  options: GenerationOptions,
  controls: { reporter?: RunReporter | undefined; signal?: AbortSignal | undefined },
): Promise<PreflightResult[]> {
  const say = (message: string) => controls.reporter?.onMessage?.(message);
  if (resolved.model.prepare) await resolved.model.prepare();
  else say("preflight: one short call to the judge…");
  const judge = { role: "judge", address, resolved, options: { ...options, ...resolved.model.defaults }, ...policies.guarded(resolved) };
  const results = await preflight([judge], { signal: controls.signal, skipHint: "--no-preflight skips this check" });
  for (const result of results) if (result.outcome === "warning") say(`preflight: ${result.address} answered with an error; running anyway: ${result.note}`);
  return results;
}
