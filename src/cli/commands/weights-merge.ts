import { Command } from "commander";
import { UserError } from "../../errors.js";
import { openCheckpoint } from "../../weights/checkpoint.js";
import { loadWeightKernels } from "../../weights/kernels.js";
import { mergeCheckpoints, type MergeResult } from "../../weights/merge.js";
import { MERGE_METHODS, type MergeMethod } from "../../weights/merge-methods.js";
import { printJson, printOut } from "../output.js";
import { asEnvironmentError, byteProgress } from "./weights-progress.js";

interface MergeFlags {
  base: string;
  vector: string[];
  out: string;
  method: string;
  tiesK: string;
  dareP: string;
  seed: string;
  json?: boolean;
  progress: boolean;
}

/** `FILE:0.6` → the file and its λ; a path without a trailing `:number` has λ = 1. */
export function parseVector(text: string): { path: string; lambda: number } {
  const match = /^(.*):([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i.exec(text);
  if (!match) return { path: text, lambda: 1 };
  const lambda = Number(match[2]);
  if (!Number.isFinite(lambda)) throw new UserError(`--vector ${text}: the weight after ':' must be a finite number`);
  return { path: match[1]!, lambda };
}

function number(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new UserError(`${flag} ${text}: must be a number`);
  return value;
}

export function weightsMergeCommand(): Command {
  return new Command("merge")
    .description(
      "Add task vectors to a base checkpoint: θ = θ_base + Σ λ_i τ_i (task arithmetic), or TIES (trim to the top k% by magnitude, elect a sign, " +
        "disjoint mean) or DARE (drop with probability p, rescale by 1/(1−p), seeded). The output has the base's format and element types " +
        "(BF16 and F16 correctly rounded, to nearest even): a merged GGUF runs at once with --models llamacpp:merged.gguf.",
    )
    .requiredOption("--base <path>", "the base checkpoint: a folder, a .safetensors file, a model.safetensors.index.json or an F32/F16/BF16 .gguf")
    .requiredOption("--vector <file[:lambda]>", "a task vector (e.g. from `weights diff --save`) and its weight λ (default 1); repeat for several", (value: string, previous: string[] = []) => [
      ...previous,
      value,
    ])
    .requiredOption("--out <path>", "a folder (the base's file names, plus its config and tokenizer files), or a .safetensors / .gguf file for a single-file base")
    .option("--method <name>", `how vectors combine: ${MERGE_METHODS.join(", ")}`, "task-arithmetic")
    .option("--ties-k <percent>", "TIES: the percentage of each tensor's entries kept per vector, by magnitude", "20")
    .option("--dare-p <p>", "DARE: the probability of dropping each entry", "0.9")
    .option("--seed <n>", "DARE: the seed of the drop masks (the same seed gives the same merge)", "0")
    .option("--json", "print what was written as JSON")
    .option("--no-progress", "no progress line on stderr")
    .addHelpText(
      "after",
      "\nExamples:\n  alignbench weights merge --base base/ --vector helpful.safetensors:0.6 --vector harmless.safetensors:0.4 --out merged/\n" +
        "  alignbench weights merge --base base-f16.gguf --vector tv.safetensors:1 --method ties --ties-k 20 --out merged.gguf\n" +
        "  alignbench run --suite alignx --models llamacpp:merged.gguf\n",
    )
    .action(async (flags: MergeFlags) => {
      if (!MERGE_METHODS.includes(flags.method as MergeMethod)) throw new UserError(`--method ${flags.method}: unknown; one of ${MERGE_METHODS.join(", ")}`);
      const seed = number("--seed", flags.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UserError(`--seed ${flags.seed}: must be a whole number ≥ 0`);
      const progress = byteProgress("merge", flags.progress);
      // The C kernels (compiled into the addon cache at first use); the JavaScript twins when they cannot be had.
      await loadWeightKernels();
      let result: MergeResult;
      try {
        const base = openCheckpoint(flags.base);
        const vectors = flags.vector.map((text) => {
          const { path, lambda } = parseVector(text);
          return { checkpoint: openCheckpoint(path), lambda };
        });
        result = mergeCheckpoints(base, vectors, {
          method: flags.method as MergeMethod,
          tiesK: number("--ties-k", flags.tiesK),
          dareP: number("--dare-p", flags.dareP),
          seed,
          out: flags.out,
          onProgress: progress.update,
        });
      } catch (error) {
        throw asEnvironmentError(error);
      } finally {
        progress.end();
      }
      if (flags.json) printJson(result);
      else printOut(`merged ${result.tensors} tensors (${result.parameters} parameters) by ${result.settings.method}; wrote:\n${result.files.map((file) => `  ${file}`).join("\n")}\n`);
    });
}
