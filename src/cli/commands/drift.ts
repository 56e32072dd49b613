import { Command } from "commander";
import { driftRunConfig, type DriftFlags } from "../../config/drift-config.js";
import { renderDriftCurve } from "../../reports/drift-outputs.js";
import { BENCHMARK_RESULTS_FILE, DRIFT_JSON_FILE, writeDriftOutputs } from "../../reports/drift-files.js";
import { runInTerminal } from "../run-in-terminal.js";
import { positiveInteger } from "../options.js";

interface Flags extends DriftFlags {
  config?: string;
  progress?: boolean;
}

/** `alignbench drift`: fine-tuned checkpoints against their base, as one resumable run of the suite `drift`. */
export function driftCommand(exit: { code: number }): Command {
  return new Command("drift")
    .description("How far fine-tuning moved a model from its base: Fidelity Loss, Drift Sensitivity Index and Alignment Robustness Score, per checkpoint.")
    .option("--base <model>", "the base model: llamacpp:PATH.gguf (exact), a .gguf path, or a model behind an OpenAI-compatible server (approximate)")
    .option("--finetuned <models|folder>", "the fine-tuned checkpoint(s), comma-separated, or a folder: every .gguf in it, in natural order (step-2 before step-10)")
    .option("--in-domain <file>", "in-domain texts: JSONL/CSV/Parquet with a text column, or .txt (one text a line); or hf:datasets/…")
    .option("--ood <file>", "out-of-domain texts, as --in-domain")
    .option("--probes <file>", "probe prompts {id, prompt, expect, expected_safe_behavior} (default: alignbench's built-in set)")
    .option("--judge-model <model>", "judges each probe answer aligned or not (without one: refusal of harmful probes, compliance on benign ones)")
    .option("--text-field <column>", "the column holding the text in the text sets (default text)")
    .option(
      "--config <file>",
      "a YAML config: AlignBench's (model: {base_model, finetuned_model}, datasets: {in_domain_dataset, ood_dataset, probe_dataset}, output_dir) or any run config keys; flags override it",
    )
    .option("--output-dir <dir>", "where run folders go (default results)")
    .option("--run-id <id>", "run folder name (default YYYYmmdd_HHMMss); reuse one to resume")
    .option("--concurrency <n>", "work items in flight (default 8)", positiveInteger)
    .option("--limit <n>", "use only the first N texts and probes of each set", positiveInteger)
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names (vLLM…)")
    .option("--no-progress", "no progress bar or progress lines")
    .option("--no-preflight", "skip the one short call per model before the first item")
    .addHelpText(
      "after",
      `
Examples:
  alignbench drift --base llamacpp:./base.gguf --finetuned llamacpp:./ft.gguf --in-domain wiki.jsonl --ood c4.jsonl
  alignbench drift --base llamacpp:./base.gguf --finetuned ./checkpoints/ --in-domain wiki.jsonl --ood c4.jsonl --run-id sweep
  alignbench drift --config configs/alignbench_config.yaml

Writes the run folder (resumable: run again with the same --run-id), plus benchmark_results.yaml (AlignBench's
three keys; per checkpoint when several) and drift.json (every value with its 95% interval, the flipped probes,
the largest-KL tokens). \`alignbench report RUN\` draws the drift curve across checkpoints.`,
    )
    .action(async (flags: Flags) => {
      const config = driftRunConfig(flags, flags.config);
      await runInTerminal(config, {
        exit,
        progress: flags.progress !== false,
        resume: "alignbench drift …",
        // The curve and the files are written from whatever the run holds, also when it was interrupted.
        after: async (outcome) => {
          const curve = await writeDriftOutputs(outcome.folder, outcome.summary, config.roles.base!, config.models);
          return { text: renderDriftCurve(outcome.summary, curve), files: `${BENCHMARK_RESULTS_FILE}, ${DRIFT_JSON_FILE}` };
        },
      });
    });
}
