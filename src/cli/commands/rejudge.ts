import { Command } from "commander";
import { printOut } from "../output.js";
import { EXIT } from "../../errors.js";
import { renderFailures } from "../../reports/failure-summary.js";
import { renderSummary } from "../../reports/terminal-summary.js";
import { progressReporter } from "../../reports/progress.js";
import type { RejudgeOptions } from "../../runner/rejudge.js";
import { interruptControls } from "../interrupt.js";
import { positiveInteger } from "../options.js";

interface RejudgeFlags {
  judgeModel?: string;
  outputDir: string;
  concurrency?: number;
  scoring?: string;
  config?: string;
  preflight?: boolean;
  offline?: boolean;
  allowHost?: string[];
}

export function rejudgeCommand(exit: { code: number }): Command {
  return new Command("rejudge")
    .description("Score a run's stored responses again (e.g. with another judge), without regenerating them.")
    .argument("<run>", "run id (under --output-dir) or path of a run folder")
    .option("--judge-model <model>", "judge to use (default: the run's judge); several, comma-separated (a,b,c), are a panel (see run --judge-model)")
    .option("--scoring <name>", "write the scores as a new named scoring beside the run's (NAME/verdict…), instead of replacing them; resumable")
    .option("--output-dir <dir>", "where run folders are", "results")
    .option("--concurrency <n>", "judge calls in flight (default: the run's)", positiveInteger)
    .option("--config <file>", "a run config whose providers: and base_url replace the run's (needed when they held header values or URL credentials, which the manifest does not keep)")
    .option("--offline", "refuse every connection except to loopback (and --allow-host), as run --offline does; a run made offline is rejudged offline anyway")
    .option("--allow-host <host>", "with --offline: a host on your own network that may be contacted (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--no-preflight", "skip the one short call to the judge made before the first item (it stops with a refused key, an unknown model or an unreachable endpoint)")
    .addHelpText(
      "after",
      `
Exit codes: 0 done · 1 a bug in alignbench · 2 bad input or usage (a failed preflight included) · 3 finished,
but items are still failed: a judge call that failed, or answered unusably, through every retry (with
--scoring, a failed score of that scoring too; rejudge again to retry them), or an item the run itself
could not generate (resume the run) · 4 an environment failure (disk full, write error, permission) ·
130 interrupted (rejudge again to finish).`,
    )
    .action(async (reference: string, flags: RejudgeFlags) => {
      const { rejudge } = await import("../../runner/rejudge.js");
      const reporter = progressReporter();
      const interrupt = interruptControls((message) => reporter.onMessage?.(message));
      try {
        const options: RejudgeOptions = { outputDir: flags.outputDir, reporter, stopSignal: interrupt.stopSignal, abortSignal: interrupt.abortSignal };
        if (flags.judgeModel) options.judgeModel = flags.judgeModel;
        if (flags.concurrency) options.concurrency = flags.concurrency;
        if (flags.scoring) options.scoring = flags.scoring;
        if (flags.config) options.settingsFile = flags.config;
        if (flags.preflight === false) options.preflight = false;
        if (flags.offline) options.offline = true;
        if (flags.allowHost) options.allowHosts = flags.allowHost;
        const outcome = await rejudge(reference, options);
        printOut("\n" + renderSummary(outcome.summary) + "\n\n");
        const failures = renderFailures(outcome.failures);
        if (failures) printOut(failures + "\n\n");
        printOut(`results in ${outcome.folder}\n`);
        if (outcome.failures.total > 0 && !outcome.interrupted) printOut(retryHint(outcome.runId) + "\n");
        exit.code = outcome.interrupted ? EXIT.interrupted : outcome.failures.total > 0 ? EXIT.itemsFailed : EXIT.done;
      } finally {
        interrupt.dispose();
      }
    });
}

// A plain rejudge scores every response again, a named scoring the ones it has not scored yet; an item with
// no response (its generation failed) needs the run itself resumed first.
const retryHint = (runId: string) => `failed scores are tried again when you rejudge again (same --scoring); items with no response need the run resumed first (alignbench run … --run-id ${runId})`;
