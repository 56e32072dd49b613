import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { UserError } from "../../errors.js";
import { compareRuns, loadComparisonRows } from "../../metrics/compare-runs.js";
import type { Estimate } from "../../metrics/intervals.js";
import { locateRunFolder } from "../../results/load-run.js";
import { renderTable } from "../../reports/terminal-summary.js";

function signed(estimate: Estimate, scale = 1, digits = 3): string {
  if (estimate.estimate === null) return "—";
  const value = (v: number) => `${v >= 0 ? "+" : ""}${(v * scale).toFixed(digits)}`;
  return estimate.ci95 ? `${value(estimate.estimate)} [${value(estimate.ci95[0])}, ${value(estimate.ci95[1])}]` : value(estimate.estimate);
}

export function compareCommand(): Command {
  return new Command("compare")
    .description("Paired comparison of run B against run A on the items both hold: differences with 95% intervals and McNemar's test.")
    .argument("<runA>", "baseline run id (under --output-dir) or run folder")
    .argument("<runB>", "run to compare, id or folder")
    .option("--output-dir <dir>", "where run folders are", "results")
    .option("--model-a <model>", "compare only this model of run A")
    .option("--model-b <model>", "compare only this model of run B")
    .option("--persona-a <slug>", "compare only this persona of run A")
    .option("--persona-b <slug>", "compare only this persona of run B")
    .option("--json [file]", "print (or write to a file) the comparison as JSON")
    .action(async (refA: string, refB: string, flags: { outputDir: string; modelA?: string; modelB?: string; personaA?: string; personaB?: string; json?: string | boolean }) => {
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
        const text = JSON.stringify(comparison, null, 2) + "\n";
        if (typeof flags.json === "string") writeFileSync(flags.json, text);
        else return void process.stdout.write(text);
      }
      const a = comparison.attack_success;
      const rate = (value: number | null) => (value === null ? "—" : `${(value * 100).toFixed(1)}%`);
      process.stdout.write(`paired on ${comparison.pairs} items (matched by ${comparison.pairedBy}); B − A, 95% intervals\n\n`);
      process.stdout.write(
        renderTable(
          ["metric", "n", "A", "B", "B − A (95% CI)", "test"],
          [
            ["attack success", String(a.n), rate(a.a), rate(a.b), signed(a.difference, 100, 1) + " pp", `McNemar p = ${a.mcnemar.pValue.toPrecision(3)} (${a.mcnemar.onlyA} A-only, ${a.mcnemar.onlyB} B-only)`],
            ["overall", String(comparison.overall.n), "", "", signed(comparison.overall.difference), "paired t"],
            ["safety score", String(comparison.safety_score.n), "", "", signed(comparison.safety_score.difference), "paired t"],
          ],
        ) + "\n",
      );
      if (comparison.by_category.length > 1) {
        process.stdout.write("\nattack success by category (regressions first)\n");
        process.stdout.write(renderTable(["category", "n", "B − A (95% CI)"], comparison.by_category.map((c) => [c.category, String(c.n), signed(c.difference, 100, 1) + " pp"])) + "\n");
      }
      for (const [label, keys] of [["only in A", comparison.onlyInA], ["only in B", comparison.onlyInB]] as const) {
        if (keys.length) process.stdout.write(`\n${keys.length} item(s) ${label}, not compared: ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}\n`);
      }
    });
}
