import { InterruptedError } from "../errors.js";

/**
 * Stopping a run before its run folder opens (a download, the model load, the dataset check, the preflight):
 * nothing has been written yet, so the run stops at once rather than finishing anything.
 */
export function interruptedBeforeStart(): InterruptedError {
  return new InterruptedError("interrupted before the first item: no run folder was written; run the same command again to start (a download picks up where it stopped)");
}

/** Fires when either signal does (the graceful stop or the cancel): before the start, both mean "stop now". */
export function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a || !b) return a ?? b;
  const either = new AbortController();
  for (const signal of [a, b]) {
    if (signal.aborted) either.abort();
    else signal.addEventListener("abort", () => either.abort(), { once: true });
  }
  return either.signal;
}

/**
 * The work, or an InterruptedError as soon as the signal fires. Work that cannot be cancelled (llama.cpp loading
 * a model) is not waited for: it only reads, and its result is dropped. Work that fails because of the signal
 * (an aborted download) fails with the same InterruptedError.
 */
export function untilStopped<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interruptedBeforeStart());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? interruptedBeforeStart() : error);
      },
    );
  });
}

/** Throws the InterruptedError when the signal has fired: the check just before the run folder opens. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interruptedBeforeStart();
}
