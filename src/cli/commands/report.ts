import { checkOutputFile, writeOutputFile } from "../../io/output-file.js";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { printErr, printOut } from "../output.js";
import { UserError } from "../../errors.js";
import { locateRunFolder } from "../../results/load-run.js";
import { renderHtmlReport } from "../../reports/html-report.js";
import { formatTables, paperTables, type IntervalStyle, type TableFormat } from "../../reports/paper-tables.js";
import { buildReportData } from "../../reports/report-data.js";
import { positiveInteger } from "../options.js";
import { checkRunSettings } from "./compare.js";

function unitInterval(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError("must be a number from 0 to 1");
  return parsed;
}

/** `--price MODEL=IN,OUT` in dollars per million input and output tokens. */
function price(value: string, previous: Record<string, { input: number; output: number }> = {}): Record<string, { input: number; output: number }> {
  const match = /^(.+)=([0-9.]+),([0-9.]+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`write MODEL=INPUT,OUTPUT in dollars per million tokens, e.g. gpt-4.1=2,8 (not "${value}")`);
  return { ...previous, [match[1]!]: { input: Number(match[2]), output: Number(match[3]) } };
}

interface ReportFlags {
  output?: string;
  outputDir: string;
  format: "html" | TableFormat;
  ci: IntervalStyle;
  severityThreshold: number;
  maxItems: number;
  price?: Record<string, { input: number; output: number }>;
  strict?: boolean;
}

export function reportCommand(): Command {
  return new Command("report")
    .description("Write a self-contained HTML report of a run (or of two, with their paired comparison), or print its headline tables for papers.")
    .argument("<runs...>", "one or two run ids (under --output-dir) or run folders; with two, B is compared against A")
    .option("--output <file>", "where the HTML goes (default: report.html in the run folder; report-A-vs-B.html here for two runs); tables print to stdout unless given")
    .option("--output-dir <dir>", "where run folders are", "results")
    .addOption(new Option("--format <format>", "html, or a table format for papers").choices(["html", "md", "latex", "csv"]).default("html"))
    .addOption(new Option("--ci <style>", "intervals in tables as [lo, hi] (exact) or ± half-width").choices(["brackets", "pm"]).default("brackets"))
    .option("--severity-threshold <x>", "severity above which a response counts as severe, 0-1", unitInterval, 0.7)
    .option("--max-items <n>", "items listed in the HTML (a seeded sample when the run has more; metrics always use every row)", positiveInteger, 1000)
    .option("--strict", "with two runs: fail (exit 2) when they differ in any pinned setting that can change scores")
    .option("--price <model=in,out>", "dollars per million input,output tokens of a model, for cost (repeatable)", price)
    .action(async (references: string[], flags: ReportFlags) => {
      if (references.length > 2) throw new UserError("report takes one run, or two to compare");
      const folders = references.map((reference) => locateRunFolder(reference, flags.outputDir));
      if (flags.output) checkOutputFile(flags.output);
      // Two runs: every setting they differ in is listed (a warning; --strict refuses to report them side by side).
      if (folders.length === 2) await checkRunSettings(folders[0]!, folders[1]!, flags.strict === true);
      const options = { severityThreshold: flags.severityThreshold, maxItems: flags.maxItems, ...(flags.price ? { prices: flags.price } : {}) };
      printErr(`reading ${folders.join(" and ")}…\n`);
      const data = await buildReportData(folders, options);
      if (flags.format !== "html") {
        const text = data.runs.map((run) => formatTables(paperTables(run, flags.ci), flags.format as TableFormat)).join("\n");
        if (flags.output) writeOutputFile(flags.output, text);
        else printOut(text);
        return;
      }
      const ids = data.runs.map((run) => run.manifest.run_id);
      const output = resolve(flags.output ?? (folders.length === 1 ? join(folders[0]!, "report.html") : `report-${ids.join("-vs-")}.html`));
      const html = renderHtmlReport(data);
      writeOutputFile(output, html);
      printOut(`wrote ${output} (${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB; ${data.runs.map((run) => `${run.items.length} of ${run.items_total} items listed`).join(", ")})\n`);
    });
}
