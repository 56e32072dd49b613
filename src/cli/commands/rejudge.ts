import { Command } from "commander";
import { printOut } from "../output.js";
import { renderSummary } from "../../reports/terminal-summary.js";
import { progressReporter } from "../../reports/progress.js";
import type { RejudgeOptions } from "../../runner/rejudge.js";
import { interruptControls } from "../interrupt.js";
import { positiveInteger } from "../options.js";

export function rejudgeCommand(exit: { code: number }): Command {
  return new Command("rejudge")
    .description("Score a run's stored responses again (e.g. with another judge), without regenerating them.")
    .argument("<run>", "run id (under --output-dir) or path of a run folder")
    .option("--judge-model <model>", "judge to use (default: the run's judge)")
    .option("--scoring <name>", "write the scores as a new named scoring beside the run's (NAME/verdict…), instead of replacing them; resumable")
    .option("--output-dir <dir>", "where run folders are", "results")
    .option("--concurrency <n>", "judge calls in flight (default: the run's)", positiveInteger)
    .option("--config <file>", "a run config whose providers: and base_url replace the run's (needed when they held header values or URL credentials, which the manifest does not keep)")
    .action(async (reference: string, flags: { judgeModel?: string; outputDir: string; concurrency?: number; scoring?: string; config?: string }) => {
      const { rejudge } = await import("../../runner/rejudge.js");
      const reporter = progressReporter();
      const interrupt = interruptControls((message) => reporter.onMessage?.(message));
      try {
        const options: RejudgeOptions = { outputDir: flags.outputDir, reporter, stopSignal: interrupt.stopSignal, abortSignal: interrupt.abortSignal };
        if (flags.judgeModel) options.judgeModel = flags.judgeModel;
        if (flags.concurrency) options.concurrency = flags.concurrency;
        if (flags.scoring) options.scoring = flags.scoring;
        if (flags.config) options.settingsFile = flags.config;
        const outcome = await rejudge(reference, options);
        printOut("\n" + renderSummary(outcome.summary) + "\n\nresults in " + outcome.folder + "\n");
        exit.code = outcome.interrupted ? 130 : 0;
      } finally {
        interrupt.dispose();
      }
    });
}
