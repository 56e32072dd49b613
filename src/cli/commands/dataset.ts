import { Command, InvalidArgumentError } from "commander";
import { inertJson } from "../../common/inert-text.js";
import { nonNegativeInteger, positiveInteger, positiveNumber } from "../options.js";
import { printErr, printOut } from "../output.js";
import { classifyCommand, expandCommand, generateCommand, splitCommand } from "./dataset-stages.js";

interface DedupFlags {
  field: string;
  tau: number;
  shingle: number;
  recall: number;
  seed: number;
  output?: string;
  clusters?: string;
  json?: boolean;
}

function recallTarget(value: string): number {
  const parsed = positiveNumber(value);
  if (parsed >= 1) throw new InvalidArgumentError("must be below 1 (e.g. 0.99)");
  return parsed;
}

/** `alignbench dataset dedup`: SimHash near-duplicate removal. */
function dedupCommand(): Command {
  return new Command("dedup")
    .description("Remove near-duplicate prompts: 64-bit SimHash over word shingles, pairs within Hamming distance τ found by permuted tables, one copy kept per cluster.")
    .argument("<file>", "prompts: CSV, JSONL, JSON or Parquet")
    .option("--field <column>", "the column compared", "prompt")
    .option("--tau <n>", "Hamming distance at or under which two prompts are near-duplicates (the paper's τ)", nonNegativeInteger, 10)
    .option("--shingle <n>", "words per shingle", positiveInteger, 3)
    .option("--recall <p>", "target chance that the index finds a pair at distance exactly τ (closer pairs: higher)", recallTarget, 0.99)
    .option("--seed <n>", "seed of the index's bit permutations", nonNegativeInteger, 1)
    .option("--output <file>", "the kept rows, .csv or .jsonl (default FILE.dedup.csv beside the input)")
    .option("--clusters <file>", "the clusters report (default OUTPUT.clusters.json): each cluster's kept row and removed rows with their distance")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
Near-duplicates: prompts whose SimHash fingerprints differ in at most τ of 64 bits (lower-cased words, runs of
--shingle words hashed to 64 bits, each bit set by majority). A cluster is a connected group of near-duplicates;
its first row in file order is kept, the others removed. Pairs within 3 bits are always found; pairs at
distance d ≤ τ are found with probability ≥ the printed recall bound (closer pairs likelier). No model is
called; rerunning gives the same files.

Example:
  alignbench dataset dedup prompts.csv --tau 10 --output prompts.dedup.csv`,
    )
    .action(async (file: string, flags: DedupFlags) => {
      const { dedupFile } = await import("../../datasets/dedup/dedup-file.js");
      const options: Parameters<typeof dedupFile>[0] = { input: file, field: flags.field, tau: flags.tau, shingle: flags.shingle, recall: flags.recall, seed: flags.seed };
      if (flags.output) options.output = flags.output;
      if (flags.clusters) options.clusters = flags.clusters;
      if (!flags.json) options.onPhase = (message) => printErr(`${message}…\n`);
      const report = await dedupFile(options);
      if (flags.json) return void process.stdout.write(inertJson(JSON.stringify(report, null, 2)) + "\n");
      printOut(
        [
          `${report.rows.toLocaleString("en")} rows → kept ${report.kept.toLocaleString("en")}, removed ${report.removed.toLocaleString("en")} near-duplicates in ${report.clusters.toLocaleString("en")} clusters (τ = ${report.tau}, ${report.shingle}-word shingles)`,
          `index: ${report.index.tables} tables (${report.index.permutations} permutations × 4 blocks of 16 bits), ${report.index.candidates.toLocaleString("en")} candidates checked; pairs ≤ ${report.index.certain_up_to} bits always found, at τ with probability ${(report.index.recall_at_tau * 100).toFixed(2)}%`,
          `kept rows: ${report.output}`,
          `clusters (kept row, removed rows, distances): ${report.clusters_file}`,
          `${report.seconds.toFixed(1)} s`,
        ].join("\n") + "\n",
      );
    });
}

/** `alignbench dataset …`: the stages that build a Mis-Align-Bench-style dataset. */
export function datasetCommand(exit: { code: number }): Command {
  return new Command("dataset")
    .description("Build a Mis-Align-Bench-style dataset from raw prompts, one stage at a time: classify, expand, dedup, generate, split (the stages that call models are resumable runs).")
    .addCommand(classifyCommand(exit))
    .addCommand(expandCommand(exit))
    .addCommand(dedupCommand())
    .addCommand(generateCommand(exit))
    .addCommand(splitCommand());
}
