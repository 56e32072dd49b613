import { Command } from "commander";
import { printOut } from "../output.js";
import { queueStatus, type QueueStatus } from "../../runner/queue/status.js";
import { redisOptions } from "../../runner/queue/connection.js";
import { inertLine } from "../../common/inert-text.js";

/** `alignbench status`: a queued run's progress per worker, and its stalled jobs. */
export function statusCommand(): Command {
  return new Command("status")
    .description("Show a queued run's progress per worker (items done, failed, in flight, rate) and its stalled jobs.")
    .argument("<run-id>", "the queued run's id")
    .requiredOption("--queue <redis-url>", "the Redis the run was queued on")
    .option("--json", "print the status as JSON")
    .action(async (runId: string, flags: { queue: string; json?: boolean }) => {
      redisOptions(flags.queue);
      const status = await queueStatus(runId, flags.queue);
      printOut(flags.json ? `${JSON.stringify(status, null, 2)}\n` : render(status));
    });
}

function render(status: QueueStatus): string {
  const lines = [
    `run ${inertLine(status.runId)}${status.listed ? "" : " (not listed for workers: collected, or never queued here)"}`,
    `items: ${status.items.waiting} waiting, ${status.items.active} in flight, ${status.items.delayed} retrying later, ${status.items.failed} failed in the queue`,
    `rows not yet collected: ${status.uncollected}${status.uncollected > 0 ? " (is the coordinator running? `alignbench collect` gathers them)" : ""}`,
    `stalled jobs: ${status.stalled}${status.stalled > 0 ? " (their worker stopped renewing its lock; they run again at the next stall check)" : ""}`,
    "",
    "worker                              done  failed  in flight  redelivered  items/s  connected",
  ];
  for (const worker of status.workers) {
    lines.push(
      `${inertLine(worker.worker).padEnd(34)}${String(worker.done).padStart(6)}${String(worker.failed).padStart(8)}${String(worker.inFlight).padStart(11)}${String(worker.redelivered).padStart(13)}${worker.itemsPerSecond.toFixed(1).padStart(9)}  ${worker.connected ? "yes" : "no"}`,
    );
  }
  if (status.workers.length === 0) lines.push("(no worker has taken an item of this run yet)");
  return `${lines.join("\n")}\n`;
}
