import { resolve } from "node:path";
import { UserError } from "../../errors.js";
import { runSummaryOptions } from "../../metrics/declarations.js";
import { Redactor } from "../../results/redactor.js";
import type { RunReporter } from "../reporter.js";
import { existingManifest, RunSession } from "../session.js";
import { collectQueued } from "./coordinator.js";

export interface CollectOptions {
  outputDir: string;
  runId: string;
  queueUrl: string;
  reporter?: RunReporter;
  stopSignal?: AbortSignal;
}

/**
 * `alignbench collect`: after the coordinator of a queued run stopped (killed, or Ctrl-C), gathers the rows
 * the workers went on producing into the run folder, until the run's queue is empty, and writes the final
 * files. The items were all enqueued before; items never enqueued are added by running the run again.
 */
export async function collectRun(options: CollectOptions): Promise<{ interrupted: boolean; counts: { ok: number; error: number }; folder: string }> {
  const outputDir = resolve(options.outputDir);
  const manifest = await existingManifest(outputDir, options.runId);
  if (!manifest) throw new UserError(`no run ${options.runId} in ${outputDir}: give the run id and --output-dir of the queued run`);
  const session = await RunSession.open({ outputDir, runId: options.runId, kind: "run", redactor: new Redactor([]), onMessage: (message) => options.reporter?.onMessage?.(message) });
  try {
    const counts = await session.store.counts();
    const total = manifest.dataset.valid_rows * (manifest.items_per_test ?? 1);
    session.log.info("collect_start", { run_id: options.runId, queue: options.queueUrl.replace(/\/\/[^@]*@/, "//"), done: counts.ok + counts.error });
    const interrupted = await collectQueued(options.runId, {
      queueUrl: options.queueUrl,
      store: session.store,
      log: session.log,
      ...(options.reporter ? { reporter: options.reporter } : {}),
      progress: { total, alreadyDone: counts.ok },
      stopSignal: options.stopSignal,
    });
    const outcome = await session.finalize(runSummaryOptions(manifest), interrupted);
    session.log.info("collect_end", { interrupted, ...outcome.counts });
    return { interrupted, counts: outcome.counts, folder: session.folder };
  } finally {
    await session.close();
  }
}
