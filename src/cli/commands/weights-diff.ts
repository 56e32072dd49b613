import { Command } from "commander";
import { UserError } from "../../errors.js";
import { writeOutputFile } from "../../io/output-file.js";
import { renderTable } from "../../reports/terminal-summary.js";
import { openCheckpoint } from "../../weights/checkpoint.js";
import { loadWeightKernels } from "../../weights/kernels.js";
import { diffCheckpoints, type DiffResult, type Statistics } from "../../weights/diff.js";
import { diffHtml } from "../../weights/diff-html.js";
import { printJson, printOut } from "../output.js";
import { asEnvironmentError, byteProgress } from "./weights-progress.js";

interface DiffFlags {
  base: string;
  finetuned: string;
  save?: string;
  json?: string | boolean;
  html?: string;
  top: string;
  tensors?: boolean;
  progress: boolean;
}

const number = (value: number | null, digits = 4) => (value === null ? "—" : value === 0 ? "0" : Math.abs(value) >= 1e-3 && Math.abs(value) < 1e5 ? value.toFixed(digits) : value.toExponential(2));
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
const row = (stats: Statistics) => [
  stats.name,
  String(stats.parameters),
  number(stats.deltaNorm),
  number(stats.relative),
  number(stats.cosine, 6),
  percent(stats.changedShare),
  number(stats.maxAbsDelta),
];
const TITLES = ["name", "parameters", "‖Δ‖", "‖Δ‖/‖W‖", "cos(base, ft)", "changed", "max |Δ|"];

/** The terminal view: every layer in file order, the most-changed layers, and (asked for) every tensor. */
export function renderDiff(result: DiffResult, top: number, tensors: boolean): string {
  const out = [`task vector: ${result.finetuned} − ${result.base} (${result.format}, ${result.tensors.length} tensors, ${result.total.parameters} parameters)`, ""];
  out.push(renderTable(["layer", ...TITLES.slice(1)], [...result.layers.map(row), row(result.total)]), "");
  const byName = new Map(result.layers.map((layer) => [layer.name, layer]));
  const most = result.mostChanged.slice(0, top).map((name) => byName.get(name)!);
  out.push(`most changed layers (by ‖Δ‖/‖W‖):`, renderTable(["layer", ...TITLES.slice(1)], most.map(row)), "");
  if (tensors) out.push(renderTable(["tensor", ...TITLES.slice(1)], result.tensors.map(row)), "");
  if (result.saved) out.push(`task vector written to ${result.saved} (F32)`);
  return out.join("\n") + "\n";
}

export function weightsDiffCommand(): Command {
  return new Command("diff")
    .description(
      "Measure what fine-tuning changed: per tensor and per layer the task-vector norm ‖Δ‖ (Δ = fine-tuned − base), the relative change ‖Δ‖/‖W_base‖, " +
        "the cosine between base and fine-tuned weights, the share of parameters changed, and the most-changed layers. Reads safetensors (a file, a sharded " +
        "folder with model.safetensors.index.json) or unquantized GGUF, tensor by tensor in bounded memory.",
    )
    .requiredOption("--base <path>", "the base checkpoint: a folder, a .safetensors file, a model.safetensors.index.json or an F32/F16/BF16 .gguf")
    .requiredOption("--finetuned <path>", "the fine-tuned checkpoint, with the same tensor names and shapes")
    .option("--save <file>", "write the task vector Δ (F32, same tensor names) as a safetensors file, for `weights merge --vector`")
    .option("--json [file]", "print (or write to a file) every tensor's and layer's statistics as JSON")
    .option("--html <file>", "write a self-contained HTML page charting the relative change per layer, with the tables")
    .option("--top <n>", "how many most-changed layers to list", "10")
    .option("--tensors", "also list every tensor in the terminal table")
    .option("--no-progress", "no progress line on stderr")
    .addHelpText(
      "after",
      "\nExamples:\n  alignbench weights diff --base Qwen2.5-0.5B/ --finetuned Qwen2.5-0.5B-Instruct/ --save tv.safetensors\n" +
        "  alignbench weights diff --base base-f16.gguf --finetuned ft-f16.gguf --json diff.json --html diff.html\n",
    )
    .action(async (flags: DiffFlags) => {
      const top = Number(flags.top);
      if (!(Number.isInteger(top) && top > 0)) throw new UserError(`--top ${flags.top}: must be a whole number above 0`);
      const progress = byteProgress("diff", flags.progress);
      // The C kernels (compiled into the addon cache at first use); the JavaScript twins when they cannot be had.
      await loadWeightKernels();
      let result: DiffResult;
      try {
        const base = openCheckpoint(flags.base);
        const finetuned = openCheckpoint(flags.finetuned);
        result = diffCheckpoints(base, finetuned, { ...(flags.save ? { save: flags.save } : {}), onProgress: progress.update });
      } catch (error) {
        throw asEnvironmentError(error);
      } finally {
        progress.end();
      }
      if (flags.html) writeOutputFile(flags.html, diffHtml(result));
      if (typeof flags.json === "string") writeOutputFile(flags.json, JSON.stringify(result, null, 2) + "\n");
      if (flags.json === true) printJson(result);
      else printOut(renderDiff(result, top, flags.tensors ?? false));
    });
}
