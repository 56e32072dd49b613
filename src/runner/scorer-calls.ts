import { AsyncLocalStorage } from "node:async_hooks";
import { errorTypeOf, ProviderError } from "../providers/errors.js";
import type { ModelCall } from "../providers/types.js";
import type { TranscriptCall } from "../results/record.js";

// A scorer's model calls (a judge's prompt as sent, a repair, its answer) are recorded on its score, so the
// viewer shows exactly what the judge saw. Scorers get their model calls from the runner already wrapped
// (the judge is built once per run, not per row), so the call cannot know the row: the row's scorer runs
// inside `withScorerCalls`, and the wrapped call appends to the list of whichever scorer is running.

const current = new AsyncLocalStorage<TranscriptCall[]>();

/** Runs one scorer; the calls it makes through recorded calls (failed ones too) are appended to `calls`. */
export function recordingScorerCalls<T>(calls: TranscriptCall[], run: () => Promise<T>): Promise<T> {
  return current.run(calls, run);
}

/** A model call that records itself in the running scorer's list (and nowhere outside a scorer: plans record their own). */
export function recordedForScorers(call: ModelCall, role: string, model: string): ModelCall {
  return async (request) => {
    const calls = current.getStore();
    if (!calls) return call(request);
    // Copied: a judge extends its conversation in place for a repair after this call returns.
    const entry: TranscriptCall = { role, model, messages: request.messages.slice(), response: null, usage: null, latency_ms: null, finish_reason: null };
    try {
      const answer = await call(request);
      entry.response = answer.text;
      entry.usage = answer.usage;
      entry.latency_ms = Math.round(answer.latencyMs * 10) / 10;
      entry.finish_reason = answer.finishReason;
      calls.push(entry);
      return answer;
    } catch (error) {
      if (errorTypeOf(error) !== "cancelled") {
        const message = error instanceof ProviderError ? error.message : `${(error as Error).name ?? "Error"}: ${(error as Error).message ?? String(error)}`;
        calls.push({ ...entry, error: message });
      }
      throw error;
    }
  };
}
