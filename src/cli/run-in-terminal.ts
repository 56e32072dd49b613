import type { RunConfig } from "../config/schema.js";
import { EXIT, InterruptedError } from "../errors.js";
import { costLine } from "../reports/cost-line.js";
import { renderFailures } from "../reports/failure-summary.js";
import { downloadProgressPrinter, progressReporter } from "../reports/progress.js";
import { renderSummary } from "../reports/terminal-summary.js";
import type { RunOutcome } from "../runner/run.js";
import { driftAfter } from "./drift-after.js";
import { interruptControls } from "./interrupt.js";
import { printErr, printOut } from "./output.js";

export interface TerminalRunOptions {
  /** Where the command's exit code goes (main.ts exits with it). */
  exit: { code: number };
  /** Show the progress line (false: messages only, one a line on stderr). */
  progress: boolean;
  /** What the command adds after the summary, from the finished or interrupted run (a drift run's curve and files are added by default). */
  after?(outcome: RunOutcome): Promise<{ text?: string; files?: string }>;
  /** How to resume, for the last line: the command as the user runs it, e.g. "alignbench run …". */
  resume: string;
}

/**
 * A run from a command: progress on the terminal, Ctrl-C (the first stops at once until the run folder
 * opens, then gracefully), the summary, the command's own additions, the failures, the exit code. Shared by
 * `alignbench run` and the commands built on a run (`drift`).
 */
export async function runInTerminal(config: RunConfig, options: TerminalRunOptions): Promise<void> {
  const reporter = options.progress === false ? { onMessage: (message: string) => printErr(message + "\n") } : progressReporter();
  // Until the run folder opens (downloads, the model load, the preflight) the first Ctrl-C stops at once.
  const interrupt = interruptControls((message) => reporter.onMessage?.(message), { preparing: true });
  try {
    // Loaded here, not at start-up, so --help and the other commands start fast.
    const { run } = await import("../runner/run.js");
    let outcome: RunOutcome;
    try {
      outcome = await run(config, {
        reporter,
        stopSignal: interrupt.stopSignal,
        abortSignal: interrupt.abortSignal,
        onDownloadProgress: downloadProgressPrinter(),
        onStart: () => interrupt.started(),
      });
    } catch (error) {
      if (!(error instanceof InterruptedError)) throw error;
      // One line (through the reporter, which clears a download's progress line), and exit 130.
      reporter.onMessage?.(error.message);
      options.exit.code = EXIT.interrupted;
      // A model load llama.cpp cannot cancel may still hold the process: not waited for, as nothing was written.
      setTimeout(() => process.exit(EXIT.interrupted), 200).unref();
      return;
    }
    printOut("\n" + renderSummary(outcome.summary) + "\n\n");
    const spend = costLine(outcome.summary);
    if (spend) printOut(spend + "\n\n");
    if (outcome.stoppedBy === "max_cost") printOut(`stopped at the --max-cost budget (this session spent $${outcome.sessionCostUsd?.toFixed(4) ?? "?"}); raise --max-cost and resume to go on\n`);
    // A drift run (alignbench drift, or run with plan drift) writes its files the same way whichever command ran it.
    const after = options.after ?? (config.plan === "drift" ? driftAfter(config) : undefined);
    const added = (await after?.(outcome)) ?? {};
    if (added.text) printOut(added.text + "\n\n");
    const failures = renderFailures(outcome.failures);
    if (failures) printOut(failures + "\n\n");
    printOut(`${outcome.counts.ok} done, ${outcome.counts.error} failed · results in ${outcome.folder}${added.files ? ` (${added.files})` : ""}\n`);
    if (outcome.counts.error > 0 || outcome.interrupted) printOut(`to finish (failed items are tried again), resume: ${options.resume} --run-id ${outcome.runId}\n`);
    options.exit.code = outcome.interrupted ? EXIT.interrupted : outcome.counts.error > 0 ? EXIT.itemsFailed : EXIT.done;
  } finally {
    interrupt.dispose();
  }
}
