/**
 * Ctrl-C once: stop starting items and let the ones in flight finish. Twice: cancel those too (their
 * keys stay not done). Either way the run folder is left consistent and resumable.
 */
export function interruptControls(say: (message: string) => void) {
  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) {
      stop.abort();
      say("stopping: finishing the items in flight (Ctrl-C again to cancel them)…");
    } else if (!abort.signal.aborted) {
      abort.abort();
      say("cancelling the items in flight; they will run again on resume");
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    stopSignal: stop.signal,
    abortSignal: abort.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
