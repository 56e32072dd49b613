import { writeOutputFile } from "../../io/output-file.js";
import { Command } from "commander";
import { inertJson } from "../../common/inert-text.js";
import { printOut } from "../output.js";
import { UserError } from "../../errors.js";
import { compareRuns, loadComparisonRows, type MetricComparison } from "../../metrics/compare-runs.js";
import type { Estimate } from "../../metrics/intervals.js";
import { locateRunFolder } from "../../results/load-run.js";
import { clusteringNote } from "../../reports/cluster-note.js";
import { renderTable } from "../../reports/terminal-summary.js";
import { readManifest } from "../../results/manifest.js";
import { comparePins, pinDifferenceLines, pinWarning, type PinComparison } from "../../results/pins.js";
import { folderFiles } from "../../results/run-folder.js";
import { printErr } from "../output.js";

/** The runs' pinned settings compared: each difference listed and a warning; with --strict, an error. */
export async function checkRunSettings(folderA: string, folderB: string, strict: boolean, quiet = false): Promise<PinComparison> {
  const [a, b] = await Promise.all([readManifest(folderFiles(folderA).manifest), readManifest(folderFiles(folderB).manifest)]);
  const settings = comparePins(a, b);
  const warning = pinWarning(settings);
  if (!warning) return settings;
  const lines = pinDifferenceLines(settings);
  const shown = [...lines.slice(0, 40), ...(lines.length > 40 ? [`… and ${lines.length - 40} more (--json lists them all)`] : [])];
  if (strict) throw new UserError(`--strict: ${warning}:\n${shown.map((line) => `  ${line}`).join("\n")}`);
  if (!quiet) printErr(`warning: ${warning}:\n${shown.map((line) => `  ${line}`).join("\n")}\n`);
  return settings;
}

function signed(estimate: Estimate, scale = 1, digits = 3): string {
  if (estimate.estimate === null) return "—";
  const value = (v: number) => `${v >= 0 ? "+" : ""}${(v * scale).toFixed(digits)}`;
  return estimate.ci95 ? `${value(estimate.estimate)} [${value(estimate.ci95[0])}, ${value(estimate.ci95[1])}]` : value(estimate.estimate);
}

/** A metric's name in the table: its declared name in words ("attack success"). */
function metricName(metric: MetricComparison): string {
  return metric.metric.replace(/_/g, " ");
}

/** A difference: rates in percentage points, means as numbers (with an unbounded mean's unit). */
function difference(metric: MetricComparison, estimate: Estimate): string {
  if (metric.kind.type === "rate") return signed(estimate, 100, 1) + " pp";
  const unit = metric.kind.type === "unbounded" && metric.kind.unit ? ` ${metric.kind.unit}` : "";
  return signed(estimate) + unit;
}

function level(metric: MetricComparison, value: number | null): string {
  if (value === null) return "—";
  return metric.kind.type === "rate" ? `${(value * 100).toFixed(1)}%` : value.toFixed(3);
}

function metricRow(metric: MetricComparison): string[] {
  const test =
    metric.test.name === "McNemar"
      ? `McNemar p = ${metric.test.pValue.toPrecision(3)} (${metric.test.onlyA} A-only, ${metric.test.onlyB} B-only${metric.test.items < metric.n ? " items" : ""})`
      : `paired t${metric.test.pValue === null ? "" : ` p = ${metric.test.pValue.toPrecision(3)}`}`;
  return [metric.scorer, metricName(metric), String(metric.n), level(metric, metric.a), level(metric, metric.b), difference(metric, metric.difference), test];
}

export function compareCommand(): Command {
  return new Command("compare")
    .description(
      "Paired comparison of run B against run A on the items both hold, for every metric of the scorers both runs have: differences with 95% intervals clustered by item (epochs, samples and personas of one item count once), McNemar's test on items for rates and the paired t test for means.",
    )
    .argument("<runA>", "baseline run id (under --output-dir) or run folder")
    .argument("<runB>", "run to compare, id or folder")
    .option("--output-dir <dir>", "where run folders are", "results")
    .option("--model-a <model>", "compare only this model of run A")
    .option("--model-b <model>", "compare only this model of run B")
    .option("--persona-a <slug>", "compare only this persona of run A")
    .option("--persona-b <slug>", "compare only this persona of run B")
    .option("--json [file]", "print (or write to a file) the comparison as JSON")
    .option("--strict", "fail (exit 2) when the runs differ in any pinned setting that can change scores (dataset, prompts, templates, models' options, versions…)")
    .action(async (refA: string, refB: string, flags: { outputDir: string; modelA?: string; modelB?: string; personaA?: string; personaB?: string; json?: string | boolean; strict?: boolean }) => {
      const settings = await checkRunSettings(locateRunFolder(refA, flags.outputDir), locateRunFolder(refB, flags.outputDir), flags.strict === true);
      const load = async (reference: string, model: string | undefined, persona: string | undefined) => {
        return loadComparisonRows(locateRunFolder(reference, flags.outputDir), model, persona);
      };
      let comparison;
      try {
        comparison = compareRuns(await load(refA, flags.modelA, flags.personaA), await load(refB, flags.modelB, flags.personaB));
      } catch (error) {
        if (error instanceof RangeError) throw new UserError(`${error.message} (--model-a/--model-b, --persona-a/--persona-b)`);
        throw error;
      }
      if (flags.json !== undefined) {
        const text = JSON.stringify({ ...comparison, settings }, null, 2) + "\n";
        if (typeof flags.json === "string") writeOutputFile(flags.json, text);
        else return void process.stdout.write(inertJson(text));
      }
      printOut(`paired on ${comparison.pairs} items (matched by ${comparison.pairedBy}); B − A, 95% intervals\n`);
      const note = clusteringNote(comparison);
      printOut(note ? `${note}\n\n` : "\n");
      if (comparison.metrics.length === 0) printOut("the runs share no scorer: nothing to compare\n");
      else printOut(renderTable(["scorer", "metric", "n", "A", "B", "B − A (95% CI)", "test"], comparison.metrics.map(metricRow)) + "\n");
      const primary = comparison.metrics.find((entry) => entry.scorer === comparison.primary?.scorer && entry.metric === comparison.primary?.metric);
      if (primary && comparison.by_category.length > 1) {
        printOut(`\n${metricName(primary)} by category (regressions first)\n`);
        printOut(
          renderTable(
            ["category", "n", "B − A (95% CI)"],
            comparison.by_category.map((c) => [c.category, String(c.n), difference(primary, c.difference)]),
          ) + "\n",
        );
      }
      for (const [label, keys] of [
        ["only in A", comparison.onlyInA],
        ["only in B", comparison.onlyInB],
      ] as const) {
        if (keys.length) printOut(`\n${keys.length} item(s) ${label}, not compared: ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}\n`);
      }
    });
}
