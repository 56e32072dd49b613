import { Command } from "commander";
import { inertJson } from "../../common/inert-text.js";
import type { MisalignMapping } from "../../datasets/misalign-pairs.js";
import { EXIT, UserError } from "../../errors.js";
import { writeOutputFile } from "../../io/output-file.js";
import { renderFailures } from "../../reports/failure-summary.js";
import { renderMisalignReport } from "../../reports/misalign-table.js";
import { progressReporter } from "../../reports/progress.js";
import { interruptControls } from "../interrupt.js";
import { finiteNumber, nonNegativeInteger, positiveInteger, positiveNumber } from "../options.js";
import { printOut } from "../output.js";

interface Flags {
  dataset?: string;
  models?: string;
  runs: number;
  fromRun?: string;
  scorer?: string;
  truth?: string;
  flagged?: number;
  idField?: string;
  promptField?: string;
  alignedField?: string;
  misalignedField?: string;
  responseField?: string;
  labelField?: string;
  safetyField?: string;
  valueField?: string;
  culturalField?: string;
  temperature?: number;
  maxTokens?: number;
  bootstrap: number;
  seed: number;
  limit?: number;
  concurrency?: number;
  rateLimitRps?: number;
  baseUrl?: string;
  runId?: string;
  outputDir: string;
  json?: string | boolean;
  domains?: boolean;
  preflight?: boolean;
}

const FIELDS = ["id", "prompt", "aligned", "misaligned", "response", "label", "safety", "value", "cultural"] as const;

export function misalignEvalCommand(exit: { code: number }): Command {
  return new Command("misalign-eval")
    .description(
      "Mis-Align-Bench: how well a model (or a run's judge) tells misaligned responses from aligned ones — Coverage, False Failure Rate and Alignment Score, micro-averaged, over runs, per safety/value/cultural domain.",
    )
    .option("--dataset <file>", "pairs (SaVaCu: prompt, aligned_response, misaligned_response, safety/value/cultural labels) or single responses (prompt, response, label): CSV, JSONL, JSON, Parquet")
    .option("--models <models>", "the models under test, comma-separated (provider:model; see alignbench run --help)")
    .option("--runs <n>", "times each response is asked (the paper averages 3)", positiveInteger, 3)
    .option("--from-run <run>", "instead of --dataset/--models: measure the judge of this run folder (id or path) against the labels its dataset carried")
    .option("--scorer <name>", "with --from-run: the judge's scorer (default verdict)")
    .option("--truth <column>", "with --from-run: the known label, a group_by tag or item metadata field (default label): misaligned/aligned, unsafe/safe, 1/0…")
    .option("--flagged <value>", "with --from-run: the scorer value meaning misaligned (default 1)", finiteNumber)
    .option("--id-field <column>", "id column (default id, else row_index, else the line)")
    .option("--prompt-field <column>", "prompt column (default prompt)")
    .option("--aligned-field <column>", "aligned response column (default aligned_response)")
    .option("--misaligned-field <column>", "misaligned response column (default misaligned_response)")
    .option("--response-field <column>", "single-response files: the response column (default response)")
    .option("--label-field <column>", "single-response files: the label column (default label): misaligned/aligned, 1/0, true/false, unsafe/safe")
    .option("--safety-field <column>", "safety domain column (default safety_name, safety); labels separated by ; or |, or a JSON list")
    .option("--value-field <column>", "value domain column (default values_name, value)")
    .option("--cultural-field <column>", "cultural domain column (default cultural_name, cultural)")
    .option("--temperature <t>", "sampling temperature of the models under test (default: the provider's)", finiteNumber)
    .option("--max-tokens <n>", "answer length (default 8: one word is asked for)", positiveInteger)
    .option("--bootstrap <n>", "bootstrap resamples of the 95% interval (0: none)", nonNegativeInteger, 1000)
    .option("--seed <n>", "bootstrap seed (recorded in the report)", nonNegativeInteger, 0)
    .option("--limit <n>", "only the first N rows of the dataset", positiveInteger)
    .option("--concurrency <n>", "calls in flight (default 8)", positiveInteger)
    .option("--rate-limit-rps <n>", "requests per second per model", positiveNumber)
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names")
    .option("--run-id <id>", "run folder name (default misalign-eval_YYYYmmdd_HHMMss); reuse one to resume")
    .option("--output-dir <dir>", "where run folders go", "results")
    .option("--no-preflight", "skip the one short call per model made before the first item")
    .option("--no-domains", "print only the overall rows (the JSON keeps every domain)")
    .option("--json [file]", "print (or write to a file) the report as JSON")
    .addHelpText(
      "after",
      `
Definitions (micro-averaged: counts pooled over every response, then divided):
  Coverage = misaligned responses flagged / misaligned responses
  FFR (False Failure Rate) = aligned responses flagged / aligned responses
  Alignment Score = harmonic mean of Coverage and 1 − FFR
The model must answer exactly "aligned" or "misaligned"; any other answer is unparseable: counted apart and
left out of every rate, never guessed. Each metric is computed per run, then averaged over the runs; the
interval is a seeded percentile bootstrap over prompts (a pair's two responses move together).

Examples:
  alignbench misalign-eval --dataset savacu_test.csv --models openai:gpt-4.1-mini,llamacpp:./m.gguf --runs 3
  alignbench misalign-eval --dataset answers.jsonl --response-field output --label-field is_bad --models M
  alignbench misalign-eval --from-run results/harmbench_run --scorer harmbench_classifier --truth label

Writes misalign-eval.json in the run folder (resumable with --run-id). Exit codes: 0 done · 2 bad input ·
3 some calls failed through every retry (resume to ask again) · 130 interrupted.`,
    )
    .action(async (flags: Flags) => {
      if (flags.fromRun) {
        if (flags.dataset || flags.models) throw new UserError("--from-run measures a run's judge: leave out --dataset and --models");
        const { misalignFromRun } = await import("../../reports/misalign-from-run.js");
        const options: Parameters<typeof misalignFromRun>[0] = { run: flags.fromRun, outputDir: flags.outputDir, bootstrap: flags.bootstrap, seed: flags.seed };
        if (flags.scorer) options.scorer = flags.scorer;
        if (flags.truth) options.truth = flags.truth;
        if (flags.flagged !== undefined) options.flagged = flags.flagged;
        const report = await misalignFromRun(options);
        if (emitJson(flags, report)) return;
        printOut(`\n${renderMisalignReport(report, { domains: flags.domains !== false })}\n`);
        if (report.skipped_rows > 0) printOut(`${report.skipped_rows} rows left out: no known label in ${flags.truth ?? "label"}, or the row failed\n`);
        return;
      }
      if (!flags.dataset || !flags.models) throw new UserError("name --dataset and --models (or --from-run RUN for a run's judge)");
      const mapping: MisalignMapping = {};
      for (const field of FIELDS) {
        const value = flags[`${field}Field` as const];
        if (value) mapping[field] = value;
      }
      const { misalignEval } = await import("../../runner/misalign-eval.js");
      const reporter = progressReporter();
      const interrupt = interruptControls((message) => reporter.onMessage?.(message));
      const options: Parameters<typeof misalignEval>[0] = {
        dataset: flags.dataset,
        models: flags.models
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean),
        runs: flags.runs,
        mapping,
        bootstrap: flags.bootstrap,
        seed: flags.seed,
        outputDir: flags.outputDir,
        preflight: flags.preflight !== false,
        reporter,
        stopSignal: interrupt.stopSignal,
        abortSignal: interrupt.abortSignal,
      };
      for (const key of ["temperature", "maxTokens", "limit", "concurrency", "rateLimitRps", "baseUrl", "runId"] as const)
        if (flags[key] !== undefined) (options as unknown as Record<string, unknown>)[key] = flags[key];
      let report: Awaited<ReturnType<typeof misalignEval>>;
      try {
        report = await misalignEval(options);
      } finally {
        interrupt.dispose();
      }
      exit.code = report.interrupted ? EXIT.interrupted : report.errors > 0 ? EXIT.itemsFailed : EXIT.done;
      if (emitJson(flags, report)) return;
      printOut(`\n${renderMisalignReport(report, { domains: flags.domains !== false })}\n`);
      const failures = report.failures ? renderFailures(report.failures) : "";
      if (failures) printOut(`\n${failures}\n`);
      if (report.interrupted) printOut("\ninterrupted: the numbers cover the answers so far\n");
      printOut(`\nanswers kept in ${report.folder} (rerun with --run-id ${report.folder?.split(/[\\/]/).pop()} to resume)\n`);
    });
}

function emitJson(flags: Flags, report: unknown): boolean {
  if (flags.json === undefined) return false;
  const text = JSON.stringify(report, null, 2) + "\n";
  if (typeof flags.json === "string") {
    writeOutputFile(flags.json, text);
    return false;
  }
  process.stdout.write(inertJson(text));
  return true;
}
