import { Command } from "commander";
import { printOut } from "../output.js";
import { collectRun } from "../../runner/queue/collect.js";
import { redisOptions } from "../../runner/queue/connection.js";

/** `alignbench collect`: the coordinator's part of a queued run, after it was restarted. */
export function collectCommand(exit: { code: number }): Command {
  return new Command("collect")
    .description("Gather into the run folder the rows workers produced for a queued run whose `run --queue` process stopped, then write the final files.")
    .argument("<run-id>", "the queued run's id")
    .requiredOption("--queue <redis-url>", "the Redis the run was queued on")
    .option("--output-dir <dir>", "where run folders go (default results)", "results")
    .action(async (runId: string, flags: { queue: string; outputDir: string }) => {
      redisOptions(flags.queue);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const outcome = await collectRun({ outputDir: flags.outputDir, runId, queueUrl: flags.queue, stopSignal: stop.signal });
        printOut(`${outcome.interrupted ? "stopped" : "collected"}: ${outcome.counts.ok} ok, ${outcome.counts.error} failed in ${outcome.folder}\n`);
        exit.code = outcome.interrupted ? 130 : outcome.counts.error > 0 ? 3 : 0;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
