import { Command } from "commander";
import { driftRunConfig, type DriftFlags } from "../../config/drift-config.js";
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
    .option(
      "--judge-model <model>",
      "judges each probe answer aligned or not (without one: refusal of harmful probes, compliance on benign ones); grades the answers to --in-domain-prompts / --ood-prompts",
    )
    .option("--task <suite>", "also DSI from a multiple-choice suite's accuracy (truthfulqa-mc1, truthfulqa-mc2, bbq…), scored by log-likelihood under each model")
    .option("--task-in-domain <file>", "the task's in-domain items, in the suite's own format (with --task-ood)")
    .option("--task-ood <file>", "the task's out-of-domain items, in the suite's own format (with --task-in-domain)")
    .option("--task-split <field=value>", "instead of two files: split the task's data, rows whose FIELD is VALUE (or V1|V2) in-domain, the rest out-of-domain (FIELD defaults to category)")
    .option("--task-data <file>", "the file --task-split splits (default: the suite's own dataset, downloaded once)")
    .option("--in-domain-prompts <file>", "also DSI from a judge's 0–1 grade: prompts both models answer (JSONL/CSV/Parquet: id, prompt; with --ood-prompts and --judge-model)")
    .option("--ood-prompts <file>", "out-of-domain prompts, as --in-domain-prompts")
    .option("--text-field <column>", "the column holding the text in the text sets (default text)")
    .option(
      "--config <file>",
      "a YAML config: AlignBench's (model: {base_model, finetuned_model}, datasets: {in_domain_dataset, ood_dataset, probe_dataset}, output_dir) or any run config keys; flags override it",
    )
    .option("--output-dir <dir>", "where run folders go (default results)")
    .option("--run-id <id>", "run folder name (default YYYYmmdd_HHMMss); reuse one to resume")
    .option("--concurrency <n>", "work items in flight (default 8)", positiveInteger)
    .option("--limit <n>", "use only the first N records of each set (texts, probes, task items, prompts)", positiveInteger)
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names (vLLM…)")
    .option("--no-progress", "no progress bar or progress lines")
    .option("--no-preflight", "skip the one short call per model before the first item")
    .option("--offline", "refuse every connection except to loopback (and --allow-host): checked before the first call, enforced at the socket, recorded in the manifest")
    .option("--allow-host <host>", "with --offline: a host on your own network that may be contacted (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .addHelpText(
      "after",
      `
Examples:
  alignbench drift --base llamacpp:./base.gguf --finetuned llamacpp:./ft.gguf --in-domain wiki.jsonl --ood c4.jsonl
  alignbench drift --base llamacpp:./base.gguf --finetuned ./checkpoints/ --in-domain wiki.jsonl --ood c4.jsonl --run-id sweep
  alignbench drift --config configs/alignbench_config.yaml
  alignbench drift --base … --finetuned … --in-domain wiki.jsonl --ood c4.jsonl --task truthfulqa-mc1 --task-in-domain health.json --task-ood law.json
  alignbench drift --base … --finetuned … --in-domain wiki.jsonl --ood c4.jsonl --task bbq --task-data bbq.jsonl --task-split category=Age
  alignbench drift --base … --finetuned … --in-domain wiki.jsonl --ood c4.jsonl --judge-model J --in-domain-prompts med.jsonl --ood-prompts misc.jsonl

The Drift Sensitivity Index DSI = (S_in − S_ood) / S_in, per model, and its change fine-tuned − base (paired
bootstrap interval). Its score S is greedy next-token accuracy on the texts (the headline, always); --task
adds S = the suite's accuracy on two item sets, --in-domain-prompts/--ood-prompts with --judge-model add S =
the judge's mean grade of the answers. In a config: drift: {task, task_in_domain, task_ood, task_split,
task_data, in_domain_prompts, ood_prompts}.

Writes the run folder (resumable: run again with the same --run-id), plus benchmark_results.yaml (AlignBench's
three keys; per checkpoint when several) and drift.json (every value with its 95% interval, the flipped probes,
the largest-KL tokens). \`alignbench report RUN\` draws the drift curve across checkpoints.`,
    )
    .action(async (flags: Flags) => {
      const config = driftRunConfig(flags, flags.config);
      // The curve, benchmark_results.yaml and drift.json: runInTerminal adds them to any drift run.
      await runInTerminal(config, { exit, progress: flags.progress !== false, resume: "alignbench drift …" });
    });
}
