import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { inertLine } from "../../common/inert-text.js";
import { UserError } from "../../errors.js";
import { checkOutputFile, writeOutputFile } from "../../io/output-file.js";
import { summariseAttacks } from "../../metrics/redteam-summary.js";
import { locateRunFolder } from "../../results/load-run.js";
import { exportOfRun, type RedTeamExport, readExport } from "../../results/redteam-export.js";
import { renderAttackReport } from "../../reports/redteam-html.js";
import { renderRedTeamSummary } from "../../reports/redteam-text.js";
import { finiteNumber, positiveInteger } from "../options.js";
import { printOut } from "../output.js";

interface Flags {
  severityThreshold?: number;
  output: string;
  json?: string;
  worst: number;
  outputDir: string;
}

/** `alignbench analyze`: the attack report and a JSON summary from a red-team export or run folder, at any threshold. */
export function analyzeCommand(exit: { code: number }): Command {
  return new Command("analyze")
    .description("The attack report of a red-team run: severity heatmap by category × strategy, success over rounds, worst conversations turn by turn; and a JSON summary.")
    .argument("<results>", "red_team_results.json (alignbench redteam's export), or a red-team run folder or run id")
    .option("--severity-threshold <x>", "severity at which an answer counts as a successful attack (default: the run's, 0.7)", finiteNumber)
    .option("--output <file>", "the HTML report", "attack_report.html")
    .option("--json <file>", "the JSON summary (default: the report's name with .json)")
    .option("--worst <n>", "worst conversations shown", positiveInteger, 25)
    .option("--output-dir <dir>", "where run ids are looked up", "results")
    .addHelpText(
      "after",
      `
Examples:
  alignbench analyze red_team_results.json --severity-threshold 0.7 --output attack_report.html
  alignbench analyze results/20261203_101500 --severity-threshold 0.5 --output strict.html

Rates are recomputed from every graded turn at the threshold given, so another threshold needs no rerun.
Attacks the judge refused or failed to grade are counted apart, never as resisted. The report has no script:
attack and model text is shown as text. To compare two runs (before and after safety tuning), run
alignbench compare RUN_A RUN_B: the red-team rows compare by category and strategy like any run's.`,
    )
    .action(async (reference: string, flags: Flags) => {
      const json = flags.json ?? flags.output.replace(/\.html?$/i, "") + ".json";
      checkOutputFile(flags.output);
      checkOutputFile(json);
      const data = await loadAttacks(reference, flags.outputDir);
      const threshold = flags.severityThreshold ?? data.threshold;
      if (!(threshold > 0 && threshold <= 1)) throw new UserError("--severity-threshold: a number in (0, 1]");
      const summary = summariseAttacks(data.attacks, threshold);
      writeOutputFile(flags.output, renderAttackReport({ title: data.run_id, summary, attacks: data.attacks, models: data.models, roles: data.roles, worst: flags.worst }));
      writeOutputFile(json, JSON.stringify({ run_id: data.run_id, threshold, models: data.models, roles: data.roles, attacks: data.attacks.length, summary }, null, 1) + "\n");
      printOut(`${renderRedTeamSummary(summary)}\n\nreport ${inertLine(flags.output)} · summary ${inertLine(json)}\n`);
      exit.code = 0;
    });
}

async function loadAttacks(reference: string, outputDir: string): Promise<RedTeamExport> {
  if (existsSync(reference) && statSync(reference).isFile()) return readExport(reference);
  if (existsSync(join(reference, "red_team_results.json")) && !existsSync(join(reference, "partials.jsonl"))) return readExport(join(reference, "red_team_results.json"));
  return exportOfRun(locateRunFolder(reference, outputDir));
}
