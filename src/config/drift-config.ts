import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UserError } from "../errors.js";
import { driftTextFormatFor } from "../datasets/formats/drift-text.js";
import { registerRecordFormat } from "../datasets/formats/registry.js";
import { isRemoteReference } from "../io/download.js";
import { checkpointAddresses, modelAddresses } from "./checkpoints.js";
import { ALTERNATIVE_FLAGS } from "./drift-alternatives.js";
import { ConfigError } from "./config-error.js";
import { isPlainObject, readConfigFile } from "./files.js";
import { resolveRunConfig } from "./load.js";
import type { RunConfig, RunConfigInput } from "./schema.js";

// The run config of `alignbench drift`: the flags, over a config file that is either AlignBench's own shape
// (model: {base_model, finetuned_model}, datasets: {in_domain_dataset, ood_dataset, probe_dataset},
// output_dir) or ours (any run config key), over the built-in suite `drift`. The fine-tuned checkpoints
// become the run's models (in the order given), the base model the role `base`, the three data sets the
// suite's parts in_domain, ood and probes.

export interface DriftFlags {
  base?: string;
  finetuned?: string;
  inDomain?: string;
  ood?: string;
  probes?: string;
  task?: string;
  taskInDomain?: string;
  taskOod?: string;
  taskSplit?: string;
  taskData?: string;
  inDomainPrompts?: string;
  oodPrompts?: string;
  judgeModel?: string;
  textField?: string;
  outputDir?: string;
  runId?: string;
  concurrency?: number;
  limit?: number;
  baseUrl?: string;
  preflight?: boolean;
  offline?: boolean;
  allowHost?: string[];
}

type DriftInput = "base" | "finetuned" | "inDomain" | "ood" | "probes" | AlternativeFile;
/** The files of the DSI's alternative scores (config `drift:`), by flag. */
type AlternativeFile = "taskInDomain" | "taskOod" | "taskData" | "inDomainPrompts" | "oodPrompts";

/** A value and where it was given: the flag, or the config file's line and field. */
interface Given {
  value: string | string[];
  where: string;
  /** What relative paths are relative to: the working folder for flags, the file's folder for the file. */
  base: string;
}

const FLAG: Record<DriftInput, string> = {
  base: "--base",
  finetuned: "--finetuned",
  inDomain: "--in-domain",
  ood: "--ood",
  probes: "--probes",
  taskInDomain: "--task-in-domain",
  taskOod: "--task-ood",
  taskData: "--task-data",
  inDomainPrompts: "--in-domain-prompts",
  oodPrompts: "--ood-prompts",
};
/** Each alternative file's key in the config's `drift:` block, and the parts it becomes (for errors naming where it was given). */
const DRIFT_KEY: Record<AlternativeFile, { key: string; parts: string[] }> = {
  taskInDomain: { key: "task_in_domain", parts: ["task_in_domain"] },
  taskOod: { key: "task_ood", parts: ["task_ood"] },
  taskData: { key: "task_data", parts: ["task_in_domain", "task_ood"] },
  inDomainPrompts: { key: "in_domain_prompts", parts: ["judge_in_domain"] },
  oodPrompts: { key: "ood_prompts", parts: ["judge_ood"] },
};
/** AlignBench's config keys, by block. */
const ALIGNBENCH = {
  model: { base_model: "base", finetuned_model: "finetuned" },
  datasets: {
    in_domain_dataset: "inDomain",
    ood_dataset: "ood",
    probe_dataset: "probes",
    // Ours, in the block's style: the DSI's alternative scores (the task itself: drift.task or --task).
    task_in_domain_dataset: "taskInDomain",
    task_ood_dataset: "taskOod",
    in_domain_prompts: "inDomainPrompts",
    ood_prompts: "oodPrompts",
  },
} as const satisfies Record<string, Record<string, DriftInput>>;
const PART: Record<"inDomain" | "ood" | "probes", string> = { inDomain: "in_domain", ood: "ood", probes: "probes" };
const TEXT_PARTS = ["in_domain", "ood"];

/** The effective run config of a drift run; every problem is a UserError naming the flag or the file, line and field. */
export function driftRunConfig(flags: DriftFlags, file?: string): RunConfig {
  const given = file ? alignbenchBlocks(file) : {};
  for (const key of Object.keys(FLAG) as DriftInput[]) {
    const value = flags[key];
    if (value !== undefined) given[key] = { value, where: FLAG[key], base: "." };
  }
  const overlay: RunConfigInput = {
    judge_model: flags.judgeModel,
    output_dir: flags.outputDir,
    run_id: flags.runId,
    concurrency: flags.concurrency,
    limit: flags.limit,
    base_url: flags.baseUrl,
    preflight: flags.preflight === false ? false : undefined,
  };
  if (flags.offline) overlay.offline = true;
  if (flags.allowHost) overlay.allow_hosts = flags.allowHost;
  if (!file) overlay.suite = "drift";
  if (given.finetuned) overlay.models = checkpointAddresses(given.finetuned.value, given.finetuned.where, given.finetuned.base);
  if (given.base) overlay.roles = { base: oneModel(given.base) };
  const parts: Record<string, string> = {};
  const partWhere: Record<string, string> = {};
  for (const key of ["inDomain", "ood", "probes"] as const) {
    const entry = given[key];
    if (!entry) continue;
    parts[PART[key]] = dataPath(entry);
    partWhere[PART[key]] = entry.where;
  }
  if (Object.keys(parts).length > 0) overlay.part_datasets = parts;
  const drift: Record<string, string> = {};
  for (const key of Object.keys(DRIFT_KEY) as AlternativeFile[]) {
    const entry = given[key];
    if (!entry) continue;
    drift[DRIFT_KEY[key].key] = dataPath(entry);
    for (const part of DRIFT_KEY[key].parts) partWhere[part] = entry.where;
  }
  if (flags.task !== undefined) drift.task = flags.task;
  if (flags.taskSplit !== undefined) drift.task_split = flags.taskSplit;
  if (Object.keys(drift).length > 0) overlay.drift = drift;
  const config = resolveRunConfig(file, overlay, (values) => {
    for (const block of Object.keys(ALIGNBENCH)) if (block === "model" || isPlainObject(values[block])) delete values[block];
    values.suite ??= "drift";
  });
  return checked(config, flags.textField, partWhere);
}

/** AlignBench's `model:` and `datasets:` blocks of a config file (absent ones give nothing), each value located. */
function alignbenchBlocks(file: string): Partial<Record<DriftInput, Given>> {
  const { values, lineOf } = readConfigFile(file);
  const out: Partial<Record<DriftInput, Given>> = {};
  const base = dirname(resolve(file));
  for (const [block, keys] of Object.entries(ALIGNBENCH)) {
    const section = values[block];
    // Our own `datasets:` is a list of parts: not AlignBench's block.
    if (section === undefined || section === null || (block === "datasets" && Array.isArray(section))) continue;
    const at = (path: string[], problem: string) => new ConfigError(`${file}${lineOf(path) === undefined ? "" : `:${lineOf(path)}`}: ${path.join(".")}: ${problem}`);
    if (!isPlainObject(section)) throw at([block], `write a mapping of ${Object.keys(keys).join(", ")}`);
    for (const [key, value] of Object.entries(section)) {
      const input = (keys as Record<string, DriftInput>)[key];
      if (!input) throw at([block, key], `unknown key (AlignBench's ${block} block has ${Object.keys(keys).join(", ")})`);
      const list = input === "finetuned" && Array.isArray(value) && value.every((item) => typeof item === "string");
      if (!list && (typeof value !== "string" || value.trim() === ""))
        throw at([block, key], input === "finetuned" ? "give a model, a GGUF file, a folder of checkpoints, or a list of them" : "give a model or a file as text");
      const line = lineOf([block, key]);
      out[input] = { value: value as string | string[], where: `${file}${line === undefined ? "" : `:${line}`}: ${block}.${key}`, base };
    }
  }
  return out;
}

/** The base model: one address (a folder of several checkpoints is not a base). */
function oneModel(given: Given): string {
  const addresses = Array.isArray(given.value) ? given.value.flatMap((value) => modelAddresses(value, given.where, given.base)) : modelAddresses(given.value, given.where, given.base);
  if (addresses.length !== 1) throw new UserError(`${given.where}: the base is one model, not ${addresses.length} (${addresses.join(", ")})`);
  return addresses[0]!;
}

/** A data set's path (resolved where it was given), or a hub name / URL as it is. */
function dataPath(given: Given): string {
  if (Array.isArray(given.value)) throw new UserError(`${given.where}: give one file`);
  const value = given.value;
  return isRemoteReference(value) ? value : resolve(given.base, value);
}

/** What a drift run cannot do without, checked before anything loads: the models, and text sets that exist and hold text. */
function checked(config: RunConfig, textField: string | undefined, partWhere: Record<string, string>): RunConfig {
  if (config.models.length === 0) throw new UserError("give the fine-tuned model(s): --finetuned M[,M…] or a folder of .gguf checkpoints (or model.finetuned_model in the config)");
  if (config.roles.base === undefined) throw new UserError("give the base model: --base M (or model.base_model in the config)");
  // Models from a config's own `models:` may be files or folders too.
  config.models = checkpointAddresses(config.models, "models");
  for (const part of config.datasets ?? []) {
    const path = config.part_datasets[part.name] ?? part.dataset;
    const flag = ALTERNATIVE_FLAGS[part.name] ?? (part.name === "in_domain" ? "--in-domain" : `--${part.name}`);
    if (path === undefined) {
      if (TEXT_PARTS.includes(part.name))
        throw new UserError(`give the ${part.name === "in_domain" ? "in-domain" : "out-of-domain"} texts: ${flag} FILE (JSONL/CSV/Parquet with a text column, or .txt)`);
      continue;
    }
    if (!isRemoteReference(path)) requireText(path, partWhere[part.name] ?? flag);
  }
  if (textField !== undefined && config.datasets) {
    // The text sets' format reads the named column (the field mapping applies after a format: too late).
    const format = driftTextFormatFor(textField, `drift_text:${textField}`);
    registerRecordFormat(format);
    config.datasets = config.datasets.map((part) => (TEXT_PARTS.includes(part.name) ? { ...part, record_format: format.name } : part));
  }
  return config;
}

/** A local data file that exists and holds something besides white space. */
function requireText(path: string, flag: string): void {
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new UserError(`${flag}: ${path} is not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    // AlignBench names hub data sets ("wikitext", "c4"); here a data set is a file, a URL or an hf: file.
    throw new UserError(`${flag}: no such file ${path} (give a local file, an https URL, or hf:datasets/OWNER/REPO/FILE)`);
  }
  // Only small files are read whole to tell white space from text; a large one holds text.
  if (size === 0 || (size < 65536 && readFileSync(path, "utf8").trim() === ""))
    throw new UserError(`${flag}: ${path} is empty: a drift run needs at least one record in each set (text, probe, task item or prompt)`);
}
