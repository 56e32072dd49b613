import { Command, InvalidArgumentError } from "commander";
import { inertJson } from "../../common/inert-text.js";
import { EXIT, UserError } from "../../errors.js";
import { renderFailures } from "../../reports/failure-summary.js";
import { progressReporter } from "../../reports/progress.js";
import type { StageCommon, StageReport } from "../../runner/dataset/common.js";
import { interruptControls } from "../interrupt.js";
import { nonNegativeInteger, positiveInteger, positiveNumber } from "../options.js";
import { printOut } from "../output.js";

interface CommonFlags {
  concurrency?: number;
  rateLimitRps?: number;
  baseUrl?: string;
  runId?: string;
  outputDir: string;
  json?: boolean;
  preflight?: boolean;
}

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

function probability(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0 && parsed <= 1)) throw new InvalidArgumentError("must be above 0 and at most 1");
  return parsed;
}

/** The options every model stage shares: its run folder (resumable) and its models' policies. */
function withRunOptions(command: Command, prefix: string): Command {
  return command
    .option("--concurrency <n>", "calls in flight (default 8)", positiveInteger)
    .option("--rate-limit-rps <n>", "requests per second per model", positiveNumber)
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names")
    .option("--run-id <id>", `run folder name (default ${prefix}_YYYYmmdd_HHMMss); reuse one to resume after a stop or a crash`)
    .option("--output-dir <dir>", "where run folders go", "results")
    .option("--no-preflight", "skip the one short call per model made before the first item")
    .option("--json", "print the stage's report as JSON");
}

/** Runs a model stage with progress, Ctrl-C handling, the report and the exit code. */
async function runModelStage(exit: { code: number }, flags: CommonFlags, stage: (common: StageCommon) => Promise<StageReport>): Promise<void> {
  const reporter = progressReporter();
  const interrupt = interruptControls((message) => reporter.onMessage?.(message));
  const common: StageCommon = { outputDir: flags.outputDir, reporter, stopSignal: interrupt.stopSignal, abortSignal: interrupt.abortSignal, preflight: flags.preflight !== false };
  for (const key of ["concurrency", "rateLimitRps", "baseUrl", "runId"] as const) if (flags[key] !== undefined) (common as Record<string, unknown>)[key] = flags[key];
  let report: StageReport;
  try {
    report = await stage(common);
  } finally {
    interrupt.dispose();
  }
  exit.code = report.interrupted ? EXIT.interrupted : report.incomplete > 0 ? EXIT.itemsFailed : EXIT.done;
  if (flags.json) return void process.stdout.write(inertJson(JSON.stringify(report, null, 2)) + "\n");
  const lines = [`\n${report.stage}: ${report.written.toLocaleString("en")} rows written`, ...report.notes, ...report.outputs.map((file) => `  ${file}`)];
  const failures = renderFailures(report.failures);
  if (failures) lines.push("", failures);
  if (report.incomplete > 0 || report.interrupted) lines.push(`${report.incomplete} left out for now (failed or not reached): resume with the same command and --run-id ${report.runId}`);
  printOut(lines.join("\n") + "\n");
}

export function classifyCommand(exit: { code: number }): Command {
  return withRunOptions(
    new Command("classify")
      .description(
        "Multi-label domain assignment: an LLM labels each prompt with BeaverTails' safety, ValueCompass value and UFCS cultural domains; writes before_generation_count.csv in the published shape.",
      )
      .argument("<file>", "prompts: CSV, JSONL, JSON or Parquet with a prompt column (ids from id or row_index)")
      .requiredOption("--classifier <model>", "the classifying model (the paper: Mistral-7B-Instruct-v0.3)")
      .option("--field <column>", "the prompt column", "prompt")
      .option("--delta <p>", "keep a label when its probability is at least δ", probability, 0.5)
      .option("--probability <method>", "auto (token log-probabilities where the provider returns them, else samples), logprobs or samples", "auto")
      .option("--samples <k>", "answers sampled per prompt and taxonomy when there are no log-probabilities", positiveInteger, 5)
      .option("--sample-temperature <t>", "temperature of those samples", positiveNumber, 1)
      .option("--taxonomy <file>", "another taxonomy file of the same shape as the shipped suites/taxonomies/savacu.yaml")
      .option("--output <file>", "where to write the counts file (default the run folder's before_generation_count.csv)"),
    "dataset-classify",
  ).action(
    async (
      file: string,
      flags: CommonFlags & { classifier: string; field: string; delta: number; probability: string; samples: number; sampleTemperature: number; taxonomy?: string; output?: string },
    ) => {
      if (!["auto", "logprobs", "samples"].includes(flags.probability)) throw new UserError(`--probability must be auto, logprobs or samples, not ${flags.probability}`);
      const { classifyPrompts } = await import("../../runner/dataset/classify.js");
      await runModelStage(exit, flags, (common) =>
        classifyPrompts({
          ...common,
          input: file,
          field: flags.field,
          classifier: flags.classifier,
          delta: flags.delta,
          probability: flags.probability as "auto",
          samples: flags.samples,
          sampleTemperature: flags.sampleTemperature,
          ...(flags.taxonomy ? { taxonomyFile: flags.taxonomy } : {}),
          ...(flags.output ? { output: flags.output } : {}),
        }),
      );
    },
  );
}

export function expandCommand(exit: { code: number }): Command {
  return withRunOptions(
    new Command("expand")
      .description("Conditional prompt expansion: for every domain with fewer prompts than --target, an LLM writes new prompts on that domain (shown a few of its prompts) up to the target.")
      .argument("<file>", "classified prompts (classify's before_generation_count.csv, or any file with prompt and safety_name/values_name/cultural_name)")
      .requiredOption("--expander <model>", "the model that writes new prompts (the paper: Llama-3.1-8B-Instruct)")
      .requiredOption("--target <n>", "prompts wanted per domain", positiveInteger)
      .option("--temperature <t>", "the expander's temperature", positiveNumber, 0.7)
      .option("--output <file>", "where to write the expanded prompts (default the run folder's expanded_prompts.csv)"),
    "dataset-expand",
  ).action(async (file: string, flags: CommonFlags & { expander: string; target: number; temperature: number; output?: string }) => {
    const { expandPrompts } = await import("../../runner/dataset/expand.js");
    await runModelStage(exit, flags, (common) =>
      expandPrompts({ ...common, input: file, expander: flags.expander, target: flags.target, temperature: flags.temperature, ...(flags.output ? { output: flags.output } : {}) }),
    );
  });
}

export function generateCommand(exit: { code: number }): Command {
  return withRunOptions(
    new Command("generate")
      .description(
        "Aligned and misaligned responses per prompt from a pool of generators (temperature 0.7, top-p 0.9, 512 tokens), two-stage rejection sampling by a checker, feedback-guided resampling (at most 2); writes dataset_with_responses.csv and after_generation_count.csv.",
      )
      .argument("<file>", "labelled prompts (expand's or classify's output, after dedup)")
      .requiredOption("--generators <models>", "the generator pool, comma-separated; prompt i goes to generator i mod the pool's size")
      .requiredOption("--checker <model>", "the evaluator that checks each response and then the pair")
      .requiredOption("--classifier <model>", "the model that classified the prompts: checked to differ from the generators and the checker")
      .option("--output <file>", "the pairs file (default the run folder's dataset_with_responses.csv)")
      .option("--counts-output <file>", "the counts file (default the run folder's after_generation_count.csv)"),
    "dataset-generate",
  ).action(async (file: string, flags: CommonFlags & { generators: string; checker: string; classifier: string; output?: string; countsOutput?: string }) => {
    const { generatePairs } = await import("../../runner/dataset/generate.js");
    await runModelStage(exit, flags, (common) =>
      generatePairs({
        ...common,
        input: file,
        generators: list(flags.generators),
        checker: flags.checker,
        classifier: flags.classifier,
        ...(flags.output ? { output: flags.output } : {}),
        ...(flags.countsOutput ? { countsOutput: flags.countsOutput } : {}),
      }),
    );
  });
}

function shares(value: string): [number, number, number] {
  const parts = value.split(/[,/]/).map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) throw new InvalidArgumentError("must be three numbers, e.g. 80,10,10");
  const total = parts[0]! + parts[1]! + parts[2]!;
  if (total <= 0) throw new InvalidArgumentError("must not all be 0");
  return [parts[0]! / total, parts[1]! / total, parts[2]! / total];
}

export function splitCommand(): Command {
  return new Command("split")
    .description("Stratified, seeded train/validation/test split (80/10/10) by domain, with no near-duplicate prompts (SimHash within τ) across splits.")
    .argument("<file>", "the dataset (dataset_with_responses.csv or any file with a prompt column and safety_name/values_name/cultural_name)")
    .option("--field <column>", "the prompt column", "prompt")
    .option("--shares <a,b,c>", "train, validation and test shares", shares, [0.8, 0.1, 0.1] as [number, number, number])
    .option("--seed <n>", "shuffle seed (recorded in FILE.split.json)", nonNegativeInteger, 0)
    .option("--tau <n>", "prompts within this SimHash distance stay in one split", nonNegativeInteger, 10)
    .option("--output-dir <dir>", "folder of the three files (default beside the input)")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      `
Strata: a row's first safety domain, else its first value domain, else cultural, else none. Near-duplicate prompts
form a group that goes to one split whole; groups are shuffled (seeded) within their stratum and dealt so that
each stratum comes closest to the shares. Writes FILE.train/.validation/.test (same format) and FILE.split.json.`,
    )
    .action(async (file: string, flags: { field: string; shares: [number, number, number]; seed: number; tau: number; outputDir?: string; json?: boolean }) => {
      const { splitDataset } = await import("../../datasets/split.js");
      const report = await splitDataset({ input: file, field: flags.field, shares: flags.shares, seed: flags.seed, tau: flags.tau, ...(flags.outputDir ? { outputDir: flags.outputDir } : {}) });
      if (flags.json) return void process.stdout.write(inertJson(JSON.stringify(report, null, 2)) + "\n");
      printOut(
        [
          `${report.rows.toLocaleString("en")} rows → train ${report.counts.train}, validation ${report.counts.validation}, test ${report.counts.test} (seed ${report.seed}; ${report.strata.length} strata; ${report.near_duplicate_groups} near-duplicate groups kept whole)`,
          ...Object.values(report.files).map((f) => `  ${f}`),
        ].join("\n") + "\n",
      );
    });
}
