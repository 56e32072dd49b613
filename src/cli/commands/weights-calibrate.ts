import { Command, Option } from "commander";
import { InputError, UserError } from "../../errors.js";
import { checkOutputFile, writeOutputFile } from "../../io/output-file.js";
import { readTextFile } from "../../io/text-file.js";
import { disposeLocalModels } from "../../providers/llamacpp/llamacpp-loading.js";
import { routerText, type MixMode } from "../../providers/moe/router-file.js";
import { ModelRegistry } from "../../providers/registry.js";
import { renderTable } from "../../reports/terminal-summary.js";
import { locateRunFolder } from "../../results/load-run.js";
import { calibrate, type ScoredSetting } from "../../weights/calibrate/calibrate.js";
import { DEFAULT_LAMBDA_STEP, DEFAULT_TEMPERATURES } from "../../weights/calibrate/grid.js";
import type { SettingScore } from "../../weights/calibrate/objective.js";
import { printErr, printOut } from "../output.js";

const DEFAULT_SEED = 20260213;

interface Flags {
  run: string;
  outputDir: string;
  expert: string[];
  embedding: string;
  out: string;
  mode: MixMode;
  labels?: string;
  labelTag: string;
  lambdaStep: string;
  temperatures: string;
  seed: string;
  state?: string;
  baseUrl?: string;
  threads?: string;
}

/**
 * `weights calibrate` (wired as `alignbench weights calibrate`; the function is shared so the `weights`
 * command can add it as a subcommand): fits a mixture-of-experts router on a run of the experts.
 */
export function weightsCalibrateCommand(name = "calibrate"): Command {
  return new Command(name)
    .description(
      "Fit a moe: router (mixture of calibrated experts): centroids from labelled prompts, then λ and the softmax temperature by grid search to maximise AlignX's Average Alignment Score of the routed experts, on a run in which every expert answered the AlignX items (alignbench run --suite alignx --models E1,E2,…). Resumable: each evaluated setting is kept in the --state folder, so a killed calibration picks up where it stopped. Writes the router file that moe:FILE loads.",
    )
    .requiredOption("--run <run>", "the experts' AlignX run: run id under --output-dir, or its folder")
    .option("--output-dir <dir>", "where run folders are", "results")
    .requiredOption("--expert <name=model>", "an expert: its name (the label of the prompts it serves, e.g. helpfulness) and its model address as the run names it; repeat per expert", collect)
    .requiredOption("--embedding <model>", "the embedding model for routing: an OpenAI-compatible /embeddings model (openai:text-embedding-3-small, vllm:bge-m3…) or llamacpp:PATH.gguf")
    .requiredOption("--out <file>", "the router file to write (load it with --models moe:FILE)")
    .addOption(
      new Option("--mode <mode>", "top: each prompt goes to one expert (exact objective); mix: token-level mixture of local experts (expected-score objective)").choices(["top", "mix"]).default("top"),
    )
    .option("--labels <file>", "JSON lines {prompt, label} for the centroids (label = an expert's name); default: the run's items labelled by --label-tag")
    .option("--label-tag <tag>", "the row tag whose value labels a run item for the centroids", "part")
    .option("--lambda-step <step>", "grid step of the calibration weights λ on the simplex (λ_i = k_i × step, Σ λ = 1)", String(DEFAULT_LAMBDA_STEP))
    .option("--temperatures <list>", "comma-separated softmax temperatures to try", DEFAULT_TEMPERATURES.join(","))
    .option("--seed <n>", "seed of alignx_score's bootstrap (recorded)", String(DEFAULT_SEED))
    .option("--state <dir>", "state folder for resuming (default: OUT.calibration/)")
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names and openai: (the embedding model)")
    .option("--threads <n>", "CPU threads of a local embedding model")
    .addHelpText(
      "after",
      "\nRouting: w_i = λ_i·softmax(cos(e, c_i) / T)_i / Σ_j λ_j·softmax(cos(e, c_j) / T)_j, e the prompt's embedding and c_i expert i's centroid.\n" +
        "Example:\n  alignbench run --suite alignx --models llamacpp:helpful.gguf,llamacpp:harmless.gguf,llamacpp:honest.gguf --judge-model J --run-id experts\n" +
        "  alignbench weights calibrate --run experts --expert helpfulness=llamacpp:helpful.gguf --expert harmlessness=llamacpp:harmless.gguf \\\n" +
        "    --expert honesty=llamacpp:honest.gguf --embedding llamacpp:embed.gguf --out router.json\n" +
        "  alignbench run --suite alignx --models moe:router.json --judge-model J\n",
    )
    .action(async (flags: Flags) => {
      checkOutputFile(flags.out);
      const experts = flags.expert.map(parseExpert);
      if (experts.length < 2) throw new UserError("--expert: a mixture needs at least two experts (--expert NAME=MODEL, repeated)");
      const duplicate = experts.find((expert, index) => experts.findIndex((other) => other.name === expert.name) !== index);
      if (duplicate) throw new UserError(`--expert: "${duplicate.name}" names two experts`);
      const registry = new ModelRegistry({
        ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
        providers: { llamacpp: flags.threads ? { threads: positiveInteger(flags.threads, "--threads") } : {} },
      });
      const embedder = registry.resolve(flags.embedding).model;
      if (!embedder.embed) throw new UserError(`--embedding ${flags.embedding}: this model cannot embed texts (use an OpenAI-compatible /embeddings model or llamacpp:PATH.gguf)`);
      const options: Parameters<typeof calibrate>[0] = {
        runFolder: locateRunFolder(flags.run, flags.outputDir),
        experts,
        embedding: flags.embedding,
        embed: (texts) => embedder.embed!(texts),
        mode: flags.mode,
        labelTag: flags.labelTag,
        lambdaStep: positiveNumber(flags.lambdaStep, "--lambda-step"),
        temperatures: flags.temperatures.split(",").map((value) => positiveNumber(value.trim(), "--temperatures")),
        seed: integer(flags.seed, "--seed"),
        stateFolder: flags.state ?? `${flags.out}.calibration`,
        onProgress: (message) => printErr(`calibrate: ${message}\n`),
      };
      if (flags.labels) options.labels = await readLabels(flags.labels);
      try {
        const result = await calibrate(options);
        writeOutputFile(flags.out, routerText(result.router));
        printOut(`${result.items} items (${result.dropped} without a score from every expert left out); ${result.evaluated} settings evaluated, ${result.resumed} resumed\n`);
        const names = experts.map((expert) => expert.name);
        const rows = [
          settingRow("calibrated (written)", result.best, names),
          settingRow("uncalibrated (λ equal, T = 1)", result.uncalibrated, names),
          ...result.alone.map(({ name, score }) => scoreRow(`${name} alone`, score, "—", "—")),
        ];
        printOut(`${renderTable(["router", "λ", "T", "AAS", "win rate", "Safety Score", "TI", "n"], rows)}\n`);
        if (flags.mode === "mix") printOut("mode mix: the scores are expected scores of routing by the weights, a proxy; measure the mixture itself with alignbench run --models moe:FILE\n");
        printOut(`wrote ${flags.out}\n`);
      } finally {
        await embedder.dispose?.();
        await disposeLocalModels();
      }
    });
}

function settingRow(label: string, setting: ScoredSetting, names: string[]): string[] {
  return scoreRow(label, setting.score, names.map((name, index) => `${name} ${round(setting.lambdas[index]!)}`).join(", "), String(setting.temperature));
}

function scoreRow(label: string, score: SettingScore, lambdas: string, temperature: string): string[] {
  const show = (value: number | null) => (value === null ? "—" : value.toFixed(2));
  return [label, lambdas, temperature, show(score.aas), show(score.win_rate), show(score.safety_score), show(score.ti), String(score.n)];
}

function round(value: number): string {
  return String(Number(value.toFixed(4)));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseExpert(value: string): { name: string; model: string } {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) throw new UserError(`--expert ${value}: write NAME=MODEL, e.g. helpfulness=llamacpp:helpful.gguf`);
  return { name: value.slice(0, at), model: value.slice(at + 1) };
}

function positiveNumber(value: string, flag: string): number {
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) throw new UserError(`${flag} ${value}: must be a number > 0`);
  return number;
}

function positiveInteger(value: string, flag: string): number {
  const number = positiveNumber(value, flag);
  if (!Number.isInteger(number)) throw new UserError(`${flag} ${value}: must be a whole number`);
  return number;
}

function integer(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number)) throw new UserError(`${flag} ${value}: must be a whole number`);
  return number;
}

/** The labelled prompts: one JSON object per line, {prompt, label}. */
async function readLabels(file: string): Promise<Array<{ text: string; label: string }>> {
  const text = await readTextFile(file, "labels file");
  const labels: Array<{ text: string; label: string }> = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(file, index + 1, undefined, `not a JSON line (${(error as Error).message})`);
    }
    const entry = value as { prompt?: unknown; label?: unknown };
    if (typeof entry !== "object" || entry === null) throw new InputError(file, index + 1, undefined, "must be an object {prompt, label}");
    if (typeof entry.prompt !== "string" || entry.prompt === "") throw new InputError(file, index + 1, "prompt", "must be a non-empty string");
    if (typeof entry.label !== "string" || entry.label === "") throw new InputError(file, index + 1, "label", "must be an expert's name");
    labels.push({ text: entry.prompt, label: entry.label });
  });
  if (labels.length === 0) throw new InputError(file, undefined, undefined, "holds no labelled prompt");
  return labels;
}
