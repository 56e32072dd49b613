import { UserError } from "../errors.js";
import { ProviderError } from "../providers/errors.js";
import { oneLine } from "../common/inert-text.js";
import type { RunnableModel } from "./prepare.js";

/** What the preflight found for one model (the run.log records it). */
export interface PreflightResult {
  address: string;
  roles: string[];
  /** ok: it answered; loaded: a local model, whose load was the check; warning: reachable but not a clean answer. */
  outcome: "ok" | "loaded" | "warning" | "cancelled";
  ms: number;
  note?: string;
}

// One short message and one token: the cheapest call that still proves the endpoint, the key and the model.
const PROBE = [{ role: "user" as const, content: "Reply with OK." }];

/**
 * One cheap call per distinct model of the run (every role), before the first item, so an unreachable
 * endpoint, a refused key or an unknown model stops the run at once with its cause, instead of after every
 * item has failed with it. Calls go through each model's policy (rate limit, timeout, retries of transient
 * failures). A local model was loaded by prepareRun: that load is its check. Throws a UserError naming every
 * model that failed.
 */
export async function preflight(
  models: RunnableModel[],
  options: {
    scoringOnly?: boolean;
    /** The targets are sent plain completions (the completion plan): probe that endpoint, not the chat one. */
    completion?: boolean;
    signal?: AbortSignal | undefined;
    /** How to skip the check, as the command says it. */
    skipHint?: string;
  } = {},
): Promise<PreflightResult[]> {
  const byAddress = new Map<string, RunnableModel[]>();
  for (const model of models) byAddress.set(model.address, [...(byAddress.get(model.address) ?? []), model]);
  const failures: string[] = [];
  const results = await Promise.all(
    [...byAddress.values()].map(async (uses): Promise<PreflightResult> => {
      const model = uses[0]!;
      const roles = [...new Set(uses.map((use) => use.role))];
      const started = performance.now();
      const result = (outcome: PreflightResult["outcome"], note?: string): PreflightResult => ({
        address: model.address,
        roles,
        outcome,
        ms: Math.round(performance.now() - started),
        ...(note ? { note } : {}),
      });
      if (model.resolved.model.prepare) return result("loaded");
      try {
        // A suite scored by log-likelihood alone never asks its targets to generate: probe what it will call.
        const scoreOnly = options.scoringOnly && roles.every((role) => role === "target") && model.scoring.loglikelihood;
        const signal = options.signal ? { signal: options.signal } : {};
        const completes = options.completion && roles.includes("target") && model.complete;
        if (scoreOnly) await model.scoring.loglikelihood!("Reply with", " OK.", signal);
        else if (completes) await model.complete!({ prompt: PROBE[0]!.content, options: { max_tokens: 1 }, ...signal });
        // A target that also plays another role (judging itself) is asked both ways.
        if (!scoreOnly && (!completes || roles.some((role) => role !== "target"))) await model.call({ messages: PROBE, options: { max_tokens: 1 }, ...signal });
        return result("ok");
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        if (error.type === "cancelled") return result("cancelled");
        if (stops(error)) failures.push(`  ${model.address} (${roles.join(", ")}): ${cause(error)}`);
        return result("warning", oneLine(error.message));
      }
    }),
  );
  if (failures.length > 0) {
    throw new UserError(
      `the preflight check failed before any item ran:\n${failures.join("\n")}\nnothing was run; fix the above and run again (${options.skipHint ?? "--no-preflight, or preflight: false, skips this check"})`,
    );
  }
  return results;
}

/**
 * Whether a failed probe stops the run: the endpoint unreachable (refused, timed out, or failing with 5xx
 * through every retry), the key refused, the model unknown. Anything else means the server answered and knows
 * the key and the model (429, a body it could not parse, or a 400 that may be about the probe itself, such as
 * one token being too few for a reasoning model): the run goes on, and the result says "warning" in run.log.
 */
function stops(error: ProviderError): boolean {
  if (error.type === "connection" || error.type === "timeout" || error.type === "server_error") return true;
  return error.status === 401 || error.status === 403 || error.status === 404;
}

/** The failure in words a user can act on; the provider's own message (hostile text) on one escaped line. */
function cause(error: ProviderError): string {
  const detail = oneLine(error.message);
  if (error.status === 401 || error.status === 403) return `the API key was refused (HTTP ${error.status}): check the key the provider reads — ${detail}`;
  if (error.status === 404) return `the model or the endpoint was not found (HTTP 404): check the model name and the base URL — ${detail}`;
  if (error.type === "connection") return `cannot reach the endpoint: is the server running and the base URL right? — ${detail}`;
  if (error.type === "timeout") return `no answer in time (raise --timeout if the server is slow) — ${detail}`;
  return detail;
}
