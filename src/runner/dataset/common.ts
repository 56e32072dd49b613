import type { FailureSummary } from "../failures.js";
import type { RunReporter } from "../reporter.js";
import type { StageModelOptions, StageModels } from "../stage-models.js";

/** Options every model-calling dataset stage takes: where its run goes, its models' policies, its controls. */
export interface StageCommon extends StageModelOptions {
  outputDir?: string;
  runId?: string;
  reporter?: RunReporter;
  stopSignal?: AbortSignal;
  abortSignal?: AbortSignal;
  /** One short call per model before the first item (default true). */
  preflight?: boolean;
}

/** What a stage did: its run folder, the files written, the items still missing (resume to finish). */
export interface StageReport {
  stage: string;
  folder: string;
  runId: string;
  interrupted: boolean;
  failures: FailureSummary;
  /** Prompts left out of the output because some of their calls failed or were not made yet. */
  incomplete: number;
  written: number;
  outputs: string[];
  notes: string[];
}

/** The run settings a stage passes to runStage. */
export function stageRunOptions(options: StageCommon, prefix: string, models: StageModels, addresses: string[]) {
  const out: {
    preflight?: () => Promise<unknown>;
    runIdPrefix: string;
    concurrency: number;
    secrets: string[];
    kind: "dataset";
    outputDir?: string;
    runId?: string;
    reporter?: RunReporter;
    stopSignal?: AbortSignal;
    abortSignal?: AbortSignal;
  } = {
    runIdPrefix: prefix,
    concurrency: models.concurrency,
    secrets: models.secrets(),
    kind: "dataset",
  };
  if (options.preflight !== false) out.preflight = () => models.preflight(addresses, options.reporter, options.abortSignal);
  if (options.outputDir !== undefined) out.outputDir = options.outputDir;
  if (options.runId !== undefined) out.runId = options.runId;
  if (options.reporter !== undefined) out.reporter = options.reporter;
  if (options.stopSignal !== undefined) out.stopSignal = options.stopSignal;
  if (options.abortSignal !== undefined) out.abortSignal = options.abortSignal;
  return out;
}
