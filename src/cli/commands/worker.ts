import { Command, InvalidArgumentError } from "commander";
import { printErr, printOut } from "../output.js";
import { runWorker } from "../../runner/queue/worker.js";
import { closeHttp } from "../../providers/http.js";
import { redisOptions } from "../../runner/queue/connection.js";

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError("must be a whole number of 1 or more");
  return parsed;
}

/** `alignbench worker`: processes items of any queued run, on any machine that reaches Redis and the models. */
export function workerCommand(exit: { code: number }): Command {
  return new Command("worker")
    .description("Process the items of queued runs (alignbench run … --queue URL) from Redis; start one on each machine. Model keys come from this machine's environment.")
    .requiredOption("--queue <redis-url>", "the Redis the runs were queued on, e.g. redis://10.0.0.5:6379")
    .option("--concurrency <n>", "items in flight on this worker (default 8)", positiveInteger, 8)
    .option("--config <file>", "a config file whose providers: and base_url replace a queued run's (needed when the run's held header values or URL credentials, which never travel through Redis)")
    .addHelpText(
      "after",
      `
The run's configuration, personas and dataset rows come with its items: no shared filesystem is needed.
Ctrl-C (or SIGTERM) stops taking items and finishes those in flight; a worker killed outright loses nothing:
its items go back to the queue when their locks lapse (about 30 s) and another worker runs them.`,
    )
    .action(async (flags: { queue: string; concurrency: number; config?: string }) => {
      redisOptions(flags.queue); // a bad URL is a usage error before anything starts
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      let done = 0;
      let failed = 0;
      const started = performance.now();
      const timer = setInterval(() => printErr(`worker: ${done} items done, ${failed} failed, ${(done / ((performance.now() - started) / 1000)).toFixed(1)} items/s\n`), 5000);
      try {
        printOut(`alignbench worker: waiting for runs on ${flags.queue.replace(/\/\/[^@]*@/, "//")} (${flags.concurrency} in flight)\n`);
        await runWorker({
          queueUrl: flags.queue,
          concurrency: flags.concurrency,
          ...(flags.config ? { settingsFile: flags.config } : {}),
          signal: stop.signal,
          onMessage: (message) => printErr(`worker: ${message}\n`),
          onItem: (_runId, _key, ok) => {
            done++;
            if (!ok) failed++;
          },
        });
      } finally {
        clearInterval(timer);
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await closeHttp();
      }
      printOut(`worker stopped: ${done} items done, ${failed} failed\n`);
      exit.code = 0;
    });
}
