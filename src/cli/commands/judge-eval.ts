import { writeOutputFile } from "../../io/output-file.js";
import { Command } from "commander";
import { inertJson } from "../../common/inert-text.js";
import { printOut } from "../output.js";
import { EXIT } from "../../errors.js";
import { renderFailures } from "../../reports/failure-summary.js";
import type { Agreement } from "../../metrics/agreement.js";
import { progressReporter } from "../../reports/progress.js";
import { renderTable } from "../../reports/terminal-summary.js";
import { interruptControls } from "../interrupt.js";
import { positiveInteger, positiveNumber } from "../options.js";

function cells(agreement: Agreement): string[] {
  const [[tn, fp], [fn, tp]] = agreement.confusion;
  const share = (value: number | null) => (value === null ? "—" : value.toFixed(3));
  return [String(agreement.n), share(agreement.accuracy), share(agreement.kappa), share(agreement.precision), share(agreement.recall), `${tp} / ${fp} / ${fn} / ${tn}`];
}

export function judgeEvalCommand(exit: { code: number }): Command {
  return new Command("judge-eval")
    .description("Validate a judge: run the HarmBench classifier judge on human-labelled generations and report agreement, Cohen's kappa and the confusion matrix, per category.")
    .requiredOption("--labels <file>", "labelled generations: HarmBench's classifier_val_set_text_behaviors.json format, or JSONL {behavior, generation, label|labels, context?, category?}")
    .option("--behaviors <file>", "HarmBench behaviours CSV (behaviour text, SemanticCategory, ContextString), for the HarmBench format")
    .requiredOption("--judge-model <model>", "the judge to validate")
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
      async (flags: {
        labels: string;
        behaviors?: string;
        judgeModel: string;
        concurrency?: number;
        rateLimitRps?: number;
        baseUrl?: string;
        json?: string | boolean;
        runId?: string;
        outputDir: string;
        preflight?: boolean;
      }) => {
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
        if (flags.concurrency) options.concurrency = flags.concurrency;
        if (flags.rateLimitRps) options.rateLimitRps = flags.rateLimitRps;
        if (flags.baseUrl) options.baseUrl = flags.baseUrl;
        if (flags.preflight === false) options.preflight = false;
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
        printOut(`\n${report.judge} against the human majority label, ${report.n} generations (${report.errors} unusable answers, excluded)\n`);
        if (report.unknown_behaviors.length) printOut(`left out: behaviours not in the behaviours file: ${report.unknown_behaviors.join(", ")}\n`);
        printOut("\n");
        const header = ["category", "n", "agreement", "kappa", "precision", "recall", "TP / FP / FN / TN"];
        printOut(renderTable(header, [["all", ...cells(report.overall)], ...report.by_category.map((c) => [c.category, ...cells(c)])]) + "\n");
        const failures = renderFailures(report.failures);
        if (failures) printOut(`\n${failures}\n`);
        if (report.interrupted) printOut("\ninterrupted: the agreement covers the generations judged so far\n");
        printOut(`\nanswers kept in ${report.folder} (rerun with --run-id ${report.folder.split(/[\\/]/).pop()} to resume)\n`);
      },
    );
}
