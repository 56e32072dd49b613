import { writeOutputFile } from "../../io/output-file.js";
import { Command } from "commander";
import { inertJson } from "../../common/inert-text.js";
import { printOut } from "../output.js";
import { EXIT } from "../../errors.js";
import { renderFailures } from "../../reports/failure-summary.js";
import type { Agreement } from "../../metrics/agreement.js";
import type { LabelMapping } from "../../datasets/labelled-file.js";
import { progressReporter } from "../../reports/progress.js";
import { renderTable } from "../../reports/terminal-summary.js";
import { interruptControls } from "../interrupt.js";
import { positiveInteger, positiveNumber } from "../options.js";
import { LEADERBOARD_HEADER, LEADERBOARD_NOTE, leaderboardCells } from "../../reports/judge-leaderboard.js";
import type { LeaderboardEntry } from "../../metrics/judging/leaderboard.js";
import type { JudgeEvalReport } from "../../runner/judge-eval.js";

function cells(agreement: Agreement): string[] {
  const [[tn, fp], [fn, tp]] = agreement.confusion;
  const share = (value: number | null) => (value === null ? "—" : value.toFixed(3));
  return [String(agreement.n), share(agreement.accuracy), share(agreement.kappa), share(agreement.precision), share(agreement.recall), `${tp} / ${fp} / ${fn} / ${tn}`];
}

/** The flags that rename a labelled file's columns. */
interface MappingFlags {
  behaviorField?: string;
  promptField?: string;
  responseField?: string;
  labelField?: string;
  contextField?: string;
  categoryField?: string;
  idField?: string;
}

/** The column mapping the flags name, if any. */
function labelMapping(flags: MappingFlags): LabelMapping | undefined {
  const mapping: LabelMapping = {};
  if (flags.behaviorField) mapping.behavior = flags.behaviorField;
  if (flags.promptField) mapping.prompt = flags.promptField;
  if (flags.responseField) mapping.response = flags.responseField;
  if (flags.labelField)
    mapping.label = flags.labelField
      .split(",")
      .map((column) => column.trim())
      .filter(Boolean);
  if (flags.contextField) mapping.context = flags.contextField;
  if (flags.categoryField) mapping.category = flags.categoryField;
  if (flags.idField) mapping.id = flags.idField;
  return Object.keys(mapping).length > 0 ? mapping : undefined;
}

export function judgeEvalCommand(exit: { code: number }): Command {
  return new Command("judge-eval")
    .description("Validate a judge: run the HarmBench classifier judge on labelled generations and report agreement, Cohen's kappa and the confusion matrix, per category.")
    .requiredOption(
      "--labels <file>",
      "labelled generations: CSV, JSONL, JSON or Parquet with columns behavior (or prompt), generation (or response), label (or labels), context?, category?, id? (rename them with the --*-field options); or HarmBench's classifier_val_set_text_behaviors.json with --behaviors",
    )
    .option("--behaviors <file>", "HarmBench behaviours CSV (behaviour text, SemanticCategory, ContextString): --labels is then HarmBench's classifier_val_set format, with human labels")
    .option("--behavior-field <column>", "column holding the behaviour the classifier judges against (default behavior; without one, the prompt)")
    .option("--prompt-field <column>", "column holding what was sent to the model, e.g. a jailbreak wrapping the behaviour (default prompt)")
    .option("--response-field <column>", "column holding the model's response (default generation, else response)")
    .option(
      "--label-field <columns>",
      "label column(s), comma-separated (default label, else labels): true/false, yes/no or 1/0, or a list of them; several labels are decided by majority (an even split is left out)",
    )
    .option("--context-field <column>", "column holding the behaviour's context (default context)")
    .option("--category-field <column>", "column holding the category (default category)")
    .option("--id-field <column>", "column holding the id (default id, else the row number); #line numbers the rows")
    .option("--records-path <path>", "where the rows are in a .json document (data.items); in JSONL, the path in each line to the row's fields")
    .option("--human-labels", "the labels are people's judgements: the report says human label, not reference label")
    .requiredOption(
      "--judge-model <model>",
      "the judge to validate; several, comma-separated (a,b,c), are each measured on the same labels (one run folder each, <run-id>_<judge>) and ranked in a leaderboard",
    )
    .option("--concurrency <n>", "judge calls in flight (default 8)", positiveInteger)
    .option("--rate-limit-rps <n>", "requests per second", positiveNumber)
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names")
    .option("--run-id <id>", "the judge-eval's run folder name (default judge-eval_YYYYmmdd_HHMMss); reuse one to resume")
    .option("--output-dir <dir>", "where run folders go", "results")
    .option("--json [file]", "print (or write to a file) the report as JSON")
    .option("--no-preflight", "skip the one short call to the judge made before the first item (it stops with a refused key, an unknown model or an unreachable endpoint)")
    .addHelpText(
      "after",
      `
Exit codes: 0 done · 1 a bug in alignbench · 2 bad input or usage (labels file, a failed preflight) · 3 finished,
but some judge answers are unusable: the call failed, or the answer was not yes or no, through every retry
(they are left out of the agreement; rerun with --run-id to ask again) · 4 an environment failure (disk full,
write error, permission) · 130 interrupted (rerun with --run-id to finish).`,
    )
    .action(
      async (
        flags: MappingFlags & {
          labels: string;
          behaviors?: string;
          recordsPath?: string;
          humanLabels?: boolean;
          judgeModel: string;
          concurrency?: number;
          rateLimitRps?: number;
          baseUrl?: string;
          json?: string | boolean;
          runId?: string;
          outputDir: string;
          preflight?: boolean;
        },
      ) => {
        const { judgeEval } = await import("../../runner/judge-eval.js");
        const reporter = progressReporter();
        const interrupt = interruptControls((message) => reporter.onMessage?.(message));
        const options: Parameters<typeof judgeEval>[0] = {
          labels: flags.labels,
          judgeModel: flags.judgeModel,
          reporter,
          outputDir: flags.outputDir,
          stopSignal: interrupt.stopSignal,
          abortSignal: interrupt.abortSignal,
        };
        if (flags.runId) options.runId = flags.runId;
        if (flags.behaviors) options.behaviors = flags.behaviors;
        const mapping = labelMapping(flags);
        if (mapping) options.mapping = mapping;
        if (flags.recordsPath) options.recordsPath = flags.recordsPath;
        if (flags.humanLabels) options.humanLabels = true;
        if (flags.concurrency) options.concurrency = flags.concurrency;
        if (flags.rateLimitRps) options.rateLimitRps = flags.rateLimitRps;
        if (flags.baseUrl) options.baseUrl = flags.baseUrl;
        if (flags.preflight === false) options.preflight = false;
        const judges = flags.judgeModel
          .split(",")
          .map((judge) => judge.trim())
          .filter(Boolean);
        if (judges.length > 1) {
          const { judgeEvalMany, judgeSlug } = await import("../../runner/judge-leaderboard.js");
          const { judgeModel: _judge, ...rest } = options;
          let many: Awaited<ReturnType<typeof judgeEvalMany>>;
          try {
            many = await judgeEvalMany(rest, judges);
          } finally {
            interrupt.dispose();
          }
          const interrupted = many.reports.some((entry) => entry.interrupted) || many.reports.length < judges.length;
          exit.code = interrupted ? EXIT.interrupted : many.reports.some((entry) => entry.errors > 0) ? EXIT.itemsFailed : EXIT.done;
          if (flags.json !== undefined) {
            const text = JSON.stringify({ leaderboard: many.leaderboard, reports: many.reports }, null, 2) + "\n";
            if (typeof flags.json === "string") writeOutputFile(flags.json, text);
            else return void process.stdout.write(inertJson(text));
          }
          const base = many.reports[0]?.folder
            .split(/[\\/]/)
            .pop()
            ?.slice(0, -(judgeSlug(judges[0]!).length + 1));
          for (const entry of many.reports) printReport(entry, `--run-id ${base} --judge-model ${judges.join(",")}`);
          printOut(`\n${renderLeaderboard(many.leaderboard)}\n`);
          return;
        }
        let report: Awaited<ReturnType<typeof judgeEval>>;
        try {
          report = await judgeEval(options);
        } finally {
          interrupt.dispose();
        }
        exit.code = report.interrupted ? EXIT.interrupted : report.errors > 0 ? EXIT.itemsFailed : EXIT.done;
        if (flags.json !== undefined) {
          const text = JSON.stringify(report, null, 2) + "\n";
          if (typeof flags.json === "string") writeOutputFile(flags.json, text);
          else return void process.stdout.write(inertJson(text));
        }
        printReport(report);
      },
    );
}

/** One judge's agreement table, failures and where its answers are kept. */
function printReport(report: JudgeEvalReport, resume = `--run-id ${report.folder.split(/[\\/]/).pop()}`): void {
  printOut(`\n${report.judge} against the ${report.reference_label}, ${report.n} generations (${report.errors} unusable answers, excluded)\n`);
  if (report.unknown_behaviors.length) printOut(`left out: behaviours not in the behaviours file: ${report.unknown_behaviors.join(", ")}\n`);
  if (report.ties.length)
    printOut(
      `left out: ${report.ties.length} generation${report.ties.length === 1 ? "" : "s"} whose labels tie (no majority): ${report.ties.slice(0, 10).join(", ")}${report.ties.length > 10 ? ", …" : ""}\n`,
    );
  printOut("\n");
  const header = ["category", "n", "agreement", "kappa", "precision", "recall", "TP / FP / FN / TN"];
  printOut(renderTable(header, [["all", ...cells(report.overall)], ...report.by_category.map((c) => [c.category, ...cells(c)])]) + "\n");
  const failures = renderFailures(report.failures);
  if (failures) printOut(`\n${failures}\n`);
  if (report.interrupted) printOut("\ninterrupted: the agreement covers the generations judged so far\n");
  if (report.outcomes) {
    const { verdict, refused, unparseable, error } = report.outcomes;
    printOut(`\njudge answers: ${verdict} verdicts, ${refused} refused to grade, ${unparseable} unparseable, ${error} call errors\n`);
  }
  printOut(`\nanswers kept in ${report.folder} (rerun with ${resume} to resume)\n`);
}

/** The judges ranked by Cohen's kappa against the labels, with what each costs and how often it fails. */
function renderLeaderboard(entries: LeaderboardEntry[]): string {
  return ["judge leaderboard (same labels; best kappa first)", renderTable(LEADERBOARD_HEADER, entries.map(leaderboardCells)), LEADERBOARD_NOTE].join("\n");
}
