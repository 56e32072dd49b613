import { Command, Option } from "commander";
import { UserError } from "../../errors.js";
import { byteSize } from "../options.js";
import { resolveRunConfig } from "../../config/load.js";
import type { RunConfigInput } from "../../config/schema.js";
import { runInTerminal } from "../run-in-terminal.js";
import { providersHelp } from "../providers-help.js";
import { defined, finiteNumber, nonNegativeInteger, positiveInteger, positiveNumber } from "../options.js";

interface RunFlags {
  dataset?: string;
  partDataset?: string[];
  suite?: string;
  scorers?: string;
  contextField?: string;
  behaviorField?: string;
  groupBy?: string;
  clusterBy?: string;
  scorerPrompt?: string[];
  models?: string;
  personas?: string;
  personasFile?: string;
  judgeModel?: string;
  modelRole?: string[];
  plan?: string;
  judgePrompt?: string;
  judgeSchema?: string;
  judgeStructuredOutput?: "json_schema" | "json_object" | "none";
  judgeRepeats?: number;
  concurrency?: number;
  rateLimitRps?: number;
  runId?: string;
  outputDir?: string;
  epochs?: number;
  retries?: number;
  limit?: number;
  onBadRow?: "stop" | "skip";
  maxRowBytes?: number;
  recordsPath?: string;
  idField?: string;
  promptField?: string;
  categoryField?: string;
  subcategoryField?: string;
  baseUrl?: string;
  queue?: string;
  timeout?: number;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  seed?: number;
  progress?: boolean;
  preflight?: boolean;
  offline?: boolean;
  allowHost?: string[];
  cache?: boolean;
  cacheNondeterministic?: boolean;
  maxCost?: number;
}

/** Flags onto config keys; the YAML file uses the same keys in snake_case. */
export function flagsToConfig(flags: RunFlags): RunConfigInput {
  const config: RunConfigInput = {
    dataset: flags.dataset,
    part_datasets: flags.partDataset ? namedValues("--part-dataset", "NAME=FILE (e.g. helpfulness=alpaca.json)", flags.partDataset) : undefined,
    suite: flags.suite,
    scorers: flags.scorers,
    context_field: flags.contextField,
    behavior_field: flags.behaviorField,
    group_by: flags.groupBy,
    cluster_by: flags.clusterBy,
    scorer_prompts: flags.scorerPrompt ? scorerPrompts(flags.scorerPrompt) : undefined,
    models: flags.models,
    personas: flags.personas,
    personas_file: flags.personasFile,
    // Several judges (a,b,c) are a panel; the first is the judge model (the panel's chair).
    judge_model: flags.judgeModel?.split(",")[0]?.trim(),
    roles: flags.modelRole ? modelRoles(flags.modelRole) : undefined,
    plan: flags.plan,
    concurrency: flags.concurrency,
    rate_limit_rps: flags.rateLimitRps,
    run_id: flags.runId,
    output_dir: flags.outputDir,
    epochs: flags.epochs,
    retries: flags.retries,
    limit: flags.limit,
    on_bad_row: flags.onBadRow,
    max_row_bytes: flags.maxRowBytes,
    records_path: flags.recordsPath,
    id_field: flags.idField,
    prompt_field: flags.promptField,
    category_field: flags.categoryField,
    subcategory_field: flags.subcategoryField,
    base_url: flags.baseUrl,
    queue: flags.queue,
    request_timeout_s: flags.timeout,
    // Commander sets preflight true unless --no-preflight: only the flag's "no" may override the config file.
    preflight: flags.preflight === false ? false : undefined,
    offline: flags.offline,
    allow_hosts: flags.allowHost,
    cache: flags.cache,
    cache_nondeterministic: flags.cacheNondeterministic,
    max_cost: flags.maxCost,
  };
  const panel = flags.judgeModel?.includes(",")
    ? flags.judgeModel
        .split(",")
        .map((model) => model.trim())
        .filter(Boolean)
    : undefined;
  const judge = defined({ prompt_file: flags.judgePrompt, schema_file: flags.judgeSchema, structured_output: flags.judgeStructuredOutput, repeats: flags.judgeRepeats, panel });
  if (judge) config.judge = judge;
  const generation = defined({ temperature: flags.temperature, max_tokens: flags.maxTokens, top_p: flags.topP, seed: flags.seed });
  if (generation) config.generation = generation;
  return config;
}

/** `--model-role role=MODEL`, repeatable. */
function modelRoles(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at <= 0 || at === value.length - 1) throw new UserError(`--model-role: write ROLE=MODEL (e.g. attacker=openai:gpt-4.1), not "${value}"`);
    const role = value.slice(0, at);
    if (out[role] !== undefined) throw new UserError(`--model-role: role "${role}" is given twice`);
    out[role] = value.slice(at + 1);
  }
  return out;
}

/** `--part-dataset NAME=FILE`, repeatable: a file for each named part. */
function namedValues(flag: string, form: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at <= 0 || at === value.length - 1) throw new UserError(`${flag}: write ${form}, not "${value}"`);
    const name = value.slice(0, at);
    if (out[name] !== undefined) throw new UserError(`${flag}: "${name}" is given twice`);
    out[name] = value.slice(at + 1);
  }
  return out;
}

/** `--scorer-prompt name=FILE`, repeatable. */
function scorerPrompts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at <= 0 || at === value.length - 1) throw new UserError(`--scorer-prompt: write NAME=FILE (e.g. strongreject_rubric=prompt.txt), not "${value}"`);
    out[value.slice(0, at)] = value.slice(at + 1);
  }
  return out;
}

export function runCommand(exit: { code: number }): Command {
  return new Command("run")
    .description("Run test cases × models × personas × epochs, judge the responses, and write a resumable run folder.")
    .argument("[config]", "YAML config file with the same settings as the flags (flags override it)")
    .option("--dataset <file|hf:datasets/…|url>", "test cases: .jsonl, .csv, .parquet or .txt; or hf:datasets/owner/repo/file, or an https URL (downloaded once, cached)")
    .option(
      "--part-dataset <name=file>",
      "a suite's named part (e.g. alignx's helpfulness, harmlessness, honesty) from your file or URL, e.g. helpfulness=alpaca.json (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--suite <name|file>", "a built-in suite (see `alignbench suites`) or a suite YAML: dataset, column mapping, scorers, options")
    .option(
      "--scorers <list>",
      "verdict, refusal_match, harmbench_classifier, strongreject_rubric, xstest_classifier, xstest_string_match, perspective, toxicity_judge, hhh_expectation, unsafe_judge, response_stats, vader_sentiment, gender_polarity, regard_judge, multiple_choice, multiple_choice_norm, multiple_choice_mass, preference_loglikelihood, preference_judge, winrate_judge, truthfulqa_judge, truthfulqa_overlap, bbq_choice, bbq_choice_ll",
    )
    .option("--scorer-prompt <name=file>", "replace a classifier scorer's prompt, e.g. strongreject_rubric=authors-prompt.txt (repeatable)", (value: string, previous: string[] = []) => [
      ...previous,
      value,
    ])
    .option("--group-by <columns>", "dataset columns to break the summary down by (e.g. label); kept as tags.<column>")
    .option("--cluster-by <column>", "a column whose rows are not independent (several prompts per behaviour): intervals clustered by it")
    .option("--context-field <column>", "column of context the prompt refers to (HarmBench ContextString)")
    .option("--behavior-field <column>", "column of the behaviour the HarmBench classifier judges against, when the prompt wraps it (a jailbreak); default: the prompt")
    .option("--models <list>", "comma-separated models as provider:model (providers below); bare names use --base-url / OPENAI_BASE_URL")
    .option("--personas <list>", "comma-separated persona slugs (see `alignbench personas`); default: none")
    .option("--personas-file <file>", "YAML or JSONL file of your own personas")
    .option(
      "--judge-model <model>",
      "model that scores each response; without it responses are stored only. Several, comma-separated (a,b,c), are a panel: each judges every item; rates by majority (a tie goes to the first), other scores by the mean; agreement (Fleiss' and pairwise Cohen's kappa) and each judge's Dawid–Skene reliability are reported",
    )
    .option(
      "--judge-repeats <k>",
      "judge each item k times (temperature and seed as configured): the summary reports the share of items whose verdict flips, agreement, and each metric's interval with the judging variance in it",
      positiveInteger,
    )
    .option(
      "--model-role <role=model>",
      "a model in a named role, e.g. attacker=openai:gpt-4.1 or baseline=gpt-4.1-mini (repeatable); --models and --judge-model are short for target= and judge=",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--plan <name>",
      "what each work item does: generate (default: one response), multi_turn (the model answers each user turn in turn), completion (the model continues the prompt's text: a plain completions request, no chat template), chat_continuation (a chat model asked to continue the text), pairwise (the model and a baseline answer), drift (fine-tuning drift against role base; see `alignbench drift`), redteam (attacks by strategy with roles attacker and judge; see `alignbench redteam`) or none (log-likelihood scoring only)",
    )
    .option("--judge-prompt <file>", "judge prompt template for items without their own judge_prompt")
    .option("--judge-schema <file>", "JSON Schema the judge's answer must satisfy")
    .addOption(new Option("--judge-structured-output <mode>", "how to ask for JSON").choices(["json_schema", "json_object", "none"]))
    .option("--concurrency <n>", "work items in flight (default 8)", positiveInteger)
    .option("--rate-limit-rps <n>", "requests per second, for each model and for the judge", positiveNumber)
    .option("--run-id <id>", "run folder name (default YYYYmmdd_HHMMss); reuse one to resume")
    .option("--output-dir <dir>", "where run folders go (default results)")
    .option("--epochs <n>", "times each item is run (default 1)", positiveInteger)
    .option("--retries <n>", "retries per call on 429, 5xx, timeouts and resets (default 3)", nonNegativeInteger)
    .option("--limit <n>", "use only the first N valid rows", positiveInteger)
    .addOption(new Option("--on-bad-row <policy>", "stop at an invalid row, or skip and count it (default stop)").choices(["stop", "skip"]))
    .option("--max-row-bytes <size>", "the largest dataset row (line) read, e.g. 50MB (default 10MB); a bigger one is an error naming it", byteSize)
    .option("--records-path <path>", "where the records are: in a .json file the path to their array (data.items); in JSONL, the path in each line to the row's fields")
    .option("--id-field <column>", "column holding the item id (default id); #line numbers the rows")
    .option("--prompt-field <column>", "column holding a one-turn prompt (default prompt)")
    .option("--category-field <column>", "column holding the category (default category)")
    .option("--subcategory-field <column>", "column holding the subcategory (default subcategory)")
    .option("--base-url <url>", "OpenAI-compatible endpoint for bare model names (vLLM, Ollama, llama.cpp…)")
    .option("--timeout <seconds>", "per-request timeout; stops a local model's generation too (default 120)", positiveNumber)
    .option("--temperature <t>", "sampling temperature of the tested models", finiteNumber)
    .option("--max-tokens <n>", "most tokens per response (default 512)", positiveInteger)
    .option("--top-p <p>", "nucleus sampling", finiteNumber)
    .option("--seed <n>", "sampling seed where supported", nonNegativeInteger)
    .option("--offline", "refuse every connection except to loopback (and --allow-host): checked before the first call, enforced at the socket for every client, recorded in the manifest")
    .option("--allow-host <host>", "with --offline: a host on your own network that may be contacted (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--cache", "reuse responses from the response cache (same model, messages, options and seed) and store new ones; see `alignbench cache`")
    .option("--cache-nondeterministic", "with --cache: also cache calls at temperature > 0 without a seed")
    .option("--max-cost <usd>", "stop cleanly (resumable) once this session's calls cost this many dollars (built-in price table, dated, or prices: in the config)", positiveNumber)
    .option("--queue <redis-url>", "put the items on a BullMQ queue in Redis (redis://host:6379) for `alignbench worker` processes on any machine; this process collects their rows")
    .option("--no-progress", "no progress bar or progress lines")
    .option("--no-preflight", "skip the one short call per model made before the first item (it stops a run with an unreachable endpoint, a refused key or an unknown model)")
    .addHelpText(
      "after",
      `
Examples:
  alignbench run --dataset cases.jsonl --models gpt-4.1-mini --judge-model gpt-4.1 --personas evil_confidant
  alignbench run suite.yaml --concurrency 32
  alignbench run --dataset cases.jsonl --models qwen2.5 --base-url http://localhost:11434/v1
  alignbench run suite.yaml --queue redis://10.0.0.5:6379     (then: alignbench worker --queue … on each machine)

${providersHelp()}

Outputs go to <output-dir>/<run-id>/: partials.jsonl, state.sqlite, results.parquet, results.csv,
manifest.json, summary.json, run.log. Run again with the same --run-id to resume.

Exit codes: 0 done · 1 a bug in alignbench · 2 bad input or usage (config, dataset, model address, a failed
preflight) · 3 the run finished but some items are still failed (resume to retry them) · 4 an environment
failure (disk full, write error, permission) · 130 interrupted (resume to finish).`,
    )
    .action(async (configFile: string | undefined, flags: RunFlags) => {
      const config = resolveRunConfig(configFile, flagsToConfig(flags));
      await runInTerminal(config, { exit, progress: flags.progress !== false, resume: "alignbench run …" });
    });
}
