/**
 * Ctrl-C (or SIGTERM) once: stop starting items and let the ones in flight finish. Twice: cancel those too
 * (their keys stay not done). Either way the run folder is left consistent and resumable. After the second,
 * the signals are the operating system's again, so a third kills the process at once: safe, since a run
 * folder survives even SIGKILL.
 *
 * With `preparing`, the command starts in a phase that writes no run folder (downloads, the model load, the
 * preflight): there the first signal stops at once (the stop signal fires, and the command exits as soon as
 * it sees it), and the next one kills, as nothing would be lost. `started()` ends that phase.
 */
export function interruptControls(say: (message: string) => void, options: { preparing?: boolean } = {}) {
  const stop = new AbortController();
  const abort = new AbortController();
  let preparing = options.preparing ?? false;
  const onSignal = () => {
    if (preparing) {
      // The command prints why it stopped, once it has; anything slower than that is one more Ctrl-C away.
      stop.abort();
      releaseAfter();
    } else if (!stop.signal.aborted) {
      stop.abort();
      say("stopping: finishing the items in flight (Ctrl-C again to cancel them)…");
    } else if (!abort.signal.aborted) {
      abort.abort();
      releaseAfter();
      say("cancelling the items in flight; they will run again on resume (Ctrl-C again quits at once; the run folder stays resumable)");
    }
  };
  const release = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  // Not while the signal is being delivered: signal-exit (node-llama-cpp loads it) listens too, and re-sends the
  // signal, killing the process, when it finds itself the only listener; this signal is to be handled, the next not.
  const releaseAfter = () => setImmediate(release);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    stopSignal: stop.signal,
    abortSignal: abort.signal,
    /** The run folder is about to open: from now on a signal is a graceful stop. */
    started() {
      preparing = false;
    },
    dispose: release,
  };
}
