import { Command, type Option } from "commander";
import { resolveRunConfig } from "../../config/load.js";
import { renderTable } from "../../reports/terminal-summary.js";
import type { RunEstimate } from "../../runner/estimate.js";
import { printJson, printOut } from "../output.js";
import { flagsToConfig, runCommand } from "./run.js";

const number = (value: number) => Math.round(value).toLocaleString("en-US");

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The estimate as a table and its notes: what each role is asked, tokens, dollars and time. */
export function renderEstimate(estimate: RunEstimate): string {
  const lines = [`${number(estimate.rows)} row(s) × ${estimate.itemsPerRow} work item(s) per row = ${number(estimate.items)} item(s), plan ${estimate.plan}`, ""];
  lines.push(
    renderTable(
      ["role", "model", "calls", "input tokens", "output tokens (at most)", "cost (at most)", "time at rate limit"],
      estimate.roles.map((entry) => [
        entry.role,
        entry.model,
        `${entry.callsAtLeast ? "≥ " : ""}${number(entry.calls)}`,
        `${entry.tokenizer === "estimate" ? "~" : ""}${number(entry.inputTokens)}${entry.tokenizer === "estimate" ? " (estimate)" : " (tokenizer)"}`,
        number(entry.outputTokensAtMost),
        entry.costAtMost === null ? "no price" : `$${entry.costAtMost.toFixed(4)} (${entry.priceSource})`,
        entry.secondsAtRateLimit === null ? "no rate limit set" : `≥ ${duration(entry.secondsAtRateLimit)}`,
      ]),
    ),
  );
  const total = estimate.totalCostAtMost === null ? "unknown (no model has a price)" : `at most $${estimate.totalCostAtMost.toFixed(4)}${estimate.costPartial ? ", plus models without a price" : ""}`;
  lines.push("", `cost: ${total} · price table of ${estimate.priceTableDate} (override with prices: in the config)`);
  for (const note of estimate.notes) lines.push(`note: ${note}`);
  lines.push("~ marks ~4 characters per token where the model's tokenizer is not known; nothing was run or called.");
  return lines.join("\n") + "\n";
}

export function planCommand(): Command {
  const command = new Command("plan")
    .description(
      "Before a run: the items, the calls per role, the tokens (a local model's own tokenizer, else an estimate), the cost at most and the time at the configured rate limits. Takes the same settings as `run`; reads the dataset, loads and calls no model.",
    )
    .argument("[config]", "YAML config file with the same settings as run's flags");
  // Exactly run's flags, so a plan describes the run that the same command line would start.
  for (const option of runCommand({ code: 0 }).options) command.addOption(option as Option);
  return command.option("--json", "print the estimate as JSON").action(async (configFile: string | undefined, flags: Parameters<typeof flagsToConfig>[0] & { json?: boolean }) => {
    const config = resolveRunConfig(configFile, flagsToConfig(flags));
    const { estimateRun } = await import("../../runner/estimate.js");
    const estimate = await estimateRun(config);
    if (flags.json) printJson(estimate);
    else printOut(renderEstimate(estimate));
  });
}
