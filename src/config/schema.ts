import { z } from "zod";
import { PROVIDER_TYPES, type ProviderType } from "../providers/registry.js";
import { STATISTICS } from "../metrics/summary-types.js";
import { DEFAULT_MAX_ROW_BYTES } from "../datasets/readers.js";
import { BYTE_SIZE_HINT, parseByteSize } from "./byte-size.js";

// One schema for the YAML file and the flags (flags are mapped onto these keys), so the two cannot drift.
// Its JSON Schema is published at schema/alignbench.config.schema.json for editor completion.

const commaList = z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : value.split(",")).map((item) => item.trim()).filter(Boolean));

export const generationOptionsSchema = z
  .object({
    temperature: z.number().min(0).max(2).optional().describe("Sampling temperature."),
    max_tokens: z.number().int().positive().optional().describe("Most tokens to generate."),
    top_p: z.number().gt(0).max(1).optional().describe("Nucleus sampling mass."),
    seed: z.number().int().optional().describe("Sampling seed, where the provider supports one."),
    stop: z.array(z.string()).optional().describe("Stop sequences."),
  })
  .strict();

/** A `providers:` entry in the config. Entries named after a built-in provider adjust it; others add one. */
export const providerSchema = z
  .object({
    type: z
      .enum(PROVIDER_TYPES as [ProviderType, ...ProviderType[]])
      .optional()
      .describe("API family; a built-in provider's entry defaults to its own (openai for ollama, vllm, lmstudio, llamacpp-server, openrouter, together)."),
    base_url: z.string().url().optional().describe("Endpoint, e.g. http://localhost:8000/v1 for vLLM."),
    base_urls: z
      .array(z.string().url())
      .min(1)
      .optional()
      .describe("Several servers of the same models, balanced by least outstanding requests with prompt-prefix affinity; a failing one is ejected for a cool-down."),
    concurrency: z.literal("auto").optional().describe("auto: adaptive concurrency per endpoint (AIMD), never above max_concurrency (default 64); Retry-After honoured."),
    eject_cooldown_s: z.number().positive().optional().describe("base_urls: seconds an ejected endpoint stays out before a trial request (default 10, doubling while it fails)."),
    api_key_env: z.string().optional().describe("Name of the environment variable holding the key (never the key itself)."),
    headers: z.record(z.string(), z.string()).optional().describe("Extra HTTP headers."),
    max_concurrency: z.number().int().positive().optional().describe("Most requests in flight to this provider (with concurrency: auto, to each of its endpoints)."),
    rate_limit_rps: z.number().positive().optional().describe("Requests per second to each of this provider's models."),
    models: z.record(z.string(), generationOptionsSchema).optional().describe("Generation options per model id."),
    context_size: z.number().int().positive().optional().describe("llamacpp: context size in tokens (default 2048)."),
    threads: z.number().int().positive().optional().describe("llamacpp: CPU threads (default: cores - 1)."),
    gpu: z
      .union([z.enum(["auto", "cuda", "vulkan", "metal"]), z.literal(false)])
      .optional()
      .describe("llamacpp: GPU backend, or false for CPU only (default auto)."),
    gpu_layers: z
      .union([z.number().int().min(0), z.enum(["auto", "max"])])
      .optional()
      .describe("llamacpp: layers offloaded to the GPU."),
    sequences: z.number().int().positive().optional().describe("llamacpp: parallel sequences in one context (default: the run's concurrency)."),
    cache_dir: z.string().optional().describe("llamacpp: cache folder for hf: models."),
  })
  .strict();

/** A `providers:` entry, as the model registry takes it. */
export type ProviderSettings = z.infer<typeof providerSchema>;

const judgeSchema = z
  .object({
    prompt_file: z.string().optional().describe("A judge prompt template used for items without their own judge_prompt."),
    schema_file: z.string().optional().describe("A JSON Schema file the judge's answer must satisfy (default: alignbench's verdict schema)."),
    structured_output: z.enum(["json_schema", "json_object", "none"]).default("json_schema").describe("How to ask the provider for JSON."),
    repair_attempts: z.number().int().min(0).max(5).default(2).describe("Extra judge calls showing the validation error, before the row is marked a judge error."),
    options: generationOptionsSchema.default({ temperature: 0 }).describe("Generation options of judge calls."),
    repeats: z.number().int().min(1).max(50).default(1).describe("Judge each item this many times (temperature and seed as configured): flips, agreement and the judging variance are reported."),
    panel: z
      .array(z.string())
      .min(2)
      .optional()
      .describe("Several judge models, each judging every item once; scores aggregate them (rates: majority, a tie to the first; others: mean). The first is judge_model."),
  })
  .strict();

const checkSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]*$/, "use letters, digits and '_'")
      .describe("The check's name: its column is scores.<name>."),
    regex: z.string().optional().describe("A regular expression (JavaScript syntax) the response is searched with."),
    contains: z
      .union([z.string(), z.array(z.string())])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .optional()
      .describe("Substrings; the check matches when any occurs."),
    ignore_case: z.boolean().default(false),
    negate: z.boolean().default(false).describe("Score 1 when the response does NOT match."),
  })
  .strict()
  .refine((check) => (check.regex === undefined) !== (check.contains === undefined), { message: "give exactly one of regex or contains" });

const perspectiveSchema = z
  .object({
    endpoint: z.string().url().optional().describe("comments:analyze URL (default Google's)."),
    api_key_env: z.string().default("PERSPECTIVE_API_KEY").describe("Environment variable holding the key."),
    attribute: z.string().default("TOXICITY").describe("Perspective attribute scored."),
    languages: z.array(z.string()).default(["en"]),
    qps: z.number().positive().default(1).describe("Requests per second (Perspective's default quota is 1)."),
  })
  .strict();

const headlineSchema = z
  .object({
    name: z.string().describe("What the number is called in summaries and reports."),
    scorer: z.string().describe("The scorer or suite metric it comes from (verdict: the verdict judge's attack success)."),
    metric: z.string().optional().describe("Which of the scorer's metrics (default its primary one)."),
    statistic: z.enum(STATISTICS).default("mean").describe("The scorer's rate or mean, or a toxicity aggregate."),
    where: z.record(z.string(), z.string()).optional().describe("Only rows with this group_by value, e.g. { label: safe }."),
    higher_is: z.enum(["better", "worse"]).optional().describe("Which direction is good, for reports."),
  })
  .strict();

/**
 * A suite's account of its protocol against the paper it reproduces: what follows the authors exactly and
 * what deviates, each with the reason. Descriptive only (nothing reads it to run), so a reader of
 * `alignbench suites show` or a run's manifest sees how far a number is comparable with the published one.
 */
const protocolSchema = z
  .object({
    paper: z.string().describe("The paper and the code whose protocol the suite reproduces."),
    follows: z.array(z.string()).min(1).describe("Settings that follow the paper exactly, each with where the paper or its code says so."),
    deviates: z
      .array(z.object({ setting: z.string(), why: z.string() }).strict())
      .default([])
      .describe("Settings that differ from the paper, each with why (and, where there is one, the flag that restores the paper's)."),
  })
  .strict();

/**
 * One part of a run over several datasets (AlignX's helpfulness, harmlessness and honesty sets): its own
 * file and reading settings, and a name that tags its rows (`tags.part`) and prefixes their ids.
 */
export const datasetPartSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, "use lower-case letters, digits and '_'")
      .describe("The part's name: its rows are tagged part=NAME and their ids become NAME/id."),
    dataset: z.string().optional().describe("The part's test cases: a file, hf:datasets/…, or an https URL (part_datasets or --part-dataset NAME=PATH replaces it)."),
    dataset_hint: z.string().optional().describe("Where to get the part's dataset, named when it is missing or cannot be downloaded."),
    record_format: z.string().optional().describe("The part's record format (see record_format)."),
    records_path: z.string().optional().describe("The part's records path (see records_path)."),
    id_field: z.string().optional(),
    prompt_field: z.string().optional(),
    category_field: z.string().optional(),
    subcategory_field: z.string().optional(),
    context_field: z.string().optional(),
    behavior_field: z.string().optional(),
    choices_field: z.string().optional(),
    answer_field: z.string().optional(),
    limit: z.number().int().positive().optional().describe("Use only the part's first N valid rows (the run's limit, when smaller, applies to each part too)."),
  })
  .strict();

export type DatasetPartConfig = z.output<typeof datasetPartSchema>;

/**
 * A drift run's alternative scores for the Drift Sensitivity Index (plan drift; `alignbench drift --task`,
 * `--in-domain-prompts`…): each becomes two named parts of the run (src/config/drift-alternatives.ts).
 */
const driftAlternativesSchema = z
  .object({
    task: z.string().optional().describe("A multiple-choice suite (truthfulqa-mc1, truthfulqa-mc2, bbq…): DSI from its log-likelihood accuracy under each model."),
    task_in_domain: z.string().optional().describe("The task's in-domain items: a file in the suite's own format (with task_ood)."),
    task_ood: z.string().optional().describe("The task's out-of-domain items: a file in the suite's own format (with task_in_domain)."),
    task_split: z
      .string()
      .optional()
      .describe("Instead of two files: FIELD=VALUE[|VALUE…] splits the task's data: rows whose FIELD is one of the values are in-domain, the others out-of-domain (FIELD defaults to category)."),
    task_data: z.string().optional().describe("The file task_split splits (default: the suite's own dataset)."),
    in_domain_prompts: z.string().optional().describe("In-domain prompts both models answer and the judge grades 0–1 (with ood_prompts and a judge model): DSI from the judge's score."),
    ood_prompts: z.string().optional().describe("Out-of-domain prompts, as in_domain_prompts."),
  })
  .strict();

export const runConfigSchema = z
  .object({
    $schema: z.string().optional(),
    dataset: z.string().optional().describe("Test cases: .jsonl, .csv or .parquet."),
    datasets: z
      .array(datasetPartSchema)
      .min(1)
      .optional()
      .describe("A run over several datasets, each a named part with its own file and reading settings (instead of dataset): rows are tagged part=NAME, ids prefixed NAME/."),
    part_datasets: z.record(z.string(), z.string()).default({}).describe("Files replacing the datasets of named parts (a suite's parts with your local copies): { helpfulness: ./alpaca.json }."),
    suite: z.string().optional().describe("A built-in suite (advbench, harmbench) or a suite YAML file: its settings apply under the file's and the flags'."),
    dataset_hint: z.string().optional().describe("In a suite file: the dataset it expects, named when --dataset is missing."),
    protocol: protocolSchema.optional().describe("In a suite file: which settings follow the paper exactly and which deviate, and why; shown by `alignbench suites show`."),
    models: commaList.default([]).describe("Models to test, as provider:model (bare names use the default OpenAI-compatible endpoint)."),
    personas: commaList.default([]).describe("Persona slugs; none means items as they are."),
    personas_file: z.string().optional().describe("YAML or JSONL file of extra personas."),
    judge_model: z.string().optional().describe("Model that scores responses; without it responses are stored only. Short for roles.judge."),
    roles: z
      .record(z.string().regex(/^[a-z][a-z0-9_]*$/, "use lower-case letters, digits and '_'"), z.string())
      .default({})
      .describe("Models by role (target, judge, attacker, baseline, base, finetuned…), as provider:model; --models and --judge-model are the short forms of target and judge."),
    plan: z
      .string()
      .default("generate")
      .describe(
        "What one work item does: generate (one response, then scorers), multi_turn (the model answers each user turn of the conversation in turn), completion (the model continues the prompt's text: a plain completions request, no chat template), chat_continuation (a chat model asked to continue the prompt's text), pairwise (the model and a baseline answer: a baseline role, stored outputs or the item's own), drift (fine-tuning drift of the target against role base: see `alignbench drift`), redteam (attacks each goal by each strategy with roles attacker and judge: see `alignbench redteam`) or none (no response: log-likelihood scoring only).",
      ),
    drift: driftAlternativesSchema.optional().describe("Plan drift: the Drift Sensitivity Index from a task's accuracy or a judge's score too (see `alignbench drift --help`)."),
    plan_options: z.record(z.string(), z.unknown()).default({}).describe("Settings of the plan (its strategies, turns…), as the plan documents them."),
    version: z.union([z.string(), z.number()]).transform(String).optional().describe("The suite's version, recorded in the manifest."),
    scorers: commaList
      .default([])
      .describe(
        "Scorers: verdict (the JSON judge), refusal_match, harmbench_classifier, strongreject_rubric, xstest_classifier, xstest_string_match, perspective, toxicity_judge, hhh_expectation, unsafe_judge, response_stats, vader_sentiment, gender_polarity, regard_judge, multiple_choice, multiple_choice_norm, multiple_choice_mass, preference_loglikelihood, preference_judge, winrate_judge, truthfulqa_judge, truthfulqa_overlap, bbq_choice, bbq_choice_ll. Default: verdict when there is a judge model; with no judge model, response_stats (response lengths, finish reasons, refusal phrases).",
      ),
    scorer_where: z
      .record(z.string(), z.record(z.string(), z.string()))
      .default({})
      .describe(
        "Where a scorer applies, by scorer name: only rows with these tag values (or category), e.g. { winrate_judge: { part: helpfulness } }; other rows get no score from it and do not count.",
      ),
    checks: z.array(checkSchema).default([]).describe("String checks run on every response, each a scorer of its own: 1 when the regex or any substring matches."),
    scorer_prompts: z.record(z.string(), z.string()).default({}).describe("Replacement prompt files for classifier scorers, by scorer name (e.g. the authors' exact StrongREJECT prompt)."),
    perspective: perspectiveSchema.default({ api_key_env: "PERSPECTIVE_API_KEY", attribute: "TOXICITY", languages: ["en"], qps: 1 }).describe("Perspective API settings, for the perspective scorer."),
    headlines: z.array(headlineSchema).default([]).describe("The suite's headline numbers, per model, shown first in summaries and reports."),
    suite_metrics: z
      .array(z.union([z.string(), z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).optional() }).strict()]))
      .default([])
      .describe("Numbers computed over a set of rows rather than as a mean of row scores (BBQ's bias scores, the length-controlled win rate…), by name, with options."),
    record_format: z
      .string()
      .optional()
      .describe(
        "How to read a benchmark file whose records are not one test case each (a dialogue in one string, a JSON object of groups of prompts): a record format's name; the other field mappings apply to its rows.",
      ),
    choices_field: z.string().optional().describe("Column of answer choices for multiple-choice scorers: {choice: 1|0} (TruthfulQA) or a list with answer_field."),
    answer_field: z.string().optional().describe("Column naming the correct choice(s): 0-based index(es) or the choice's text."),
    mc_template: z.string().default("{prompt}").describe('The context each choice continues, with {prompt}; e.g. "Q: {prompt}\\nA:". Choices follow after a space.'),
    add_bos: z
      .union([z.literal("auto"), z.boolean()])
      .default("auto")
      .describe(
        "Multiple choice: whether a beginning-of-sequence token precedes the context. auto: the model's tokenizer default (a GGUF file's add-BOS flag), lm-evaluation-harness's default; true/false need a llamacpp: model (a completions server tokenises the prompt itself).",
      ),
    respond: z.boolean().default(true).describe("Generate a response; false for suites scored by log-likelihood only (multiple choice)."),
    cluster_by: z
      .string()
      .optional()
      .describe(
        "A dataset column whose rows are not independent (e.g. several prompts per behaviour): intervals are clustered by it (rates: Wilson on the design-effect-adjusted n; means: CR1 t). Default: by test item when items repeat.",
      ),
    group_by: commaList.default([]).describe("Dataset columns to break results down by in the summary (e.g. XSTest's label: safe / unsafe); kept on each row as tags.<column>."),
    context_field: z.string().optional().describe("Column holding context the prompt refers to (HarmBench ContextString); the prompt becomes context, ---, prompt."),
    judge: judgeSchema.default({ structured_output: "json_schema", repair_attempts: 2, options: { temperature: 0 }, repeats: 1 }),
    concurrency: z.number().int().positive().default(8).describe("Most work items in flight."),
    rate_limit_rps: z.number().positive().optional().describe("Requests per second, for each model and for the judge."),
    run_id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' and '-'")
      .optional()
      .describe("Run folder name; default YYYYmmdd_HHMMss. Reuse one to resume."),
    output_dir: z.string().default("results").describe("Where run folders go."),
    queue: z.string().optional().describe("redis://host:6379: put the run's items on a BullMQ queue for `alignbench worker` processes; this process collects their rows."),
    epochs: z.number().int().positive().default(1).describe("Times each item is run."),
    retries: z.number().int().min(0).default(3).describe("Retries per call on 429, 5xx, timeouts and connection resets."),
    request_timeout_s: z.number().positive().default(120).describe("Per-request timeout in seconds (local models: the generation is stopped)."),
    preflight: z.boolean().default(true).describe("Before the first item, one short call per model (max_tokens 1): an unreachable endpoint, a refused key or an unknown model stops the run at once."),
    limit: z.number().int().positive().optional().describe("Use only the first N valid rows."),
    on_bad_row: z.enum(["stop", "skip"]).default("stop").describe("Stop on an invalid dataset row, or skip and count it."),
    max_row_bytes: z
      .union([z.number(), z.string()])
      .transform((value, context) => {
        const bytes = parseByteSize(value);
        if (bytes === undefined) context.addIssue({ code: "custom", message: `expected ${BYTE_SIZE_HINT}` });
        return bytes ?? 0;
      })
      .default(DEFAULT_MAX_ROW_BYTES)
      .describe("The largest dataset row (a line; a Parquet row) read: a bigger one is an error naming it. Bytes, or with a unit: 512KB, 50MB. Default 10MB."),
    records_path: z
      .string()
      .regex(/^[^.]+(\.[^.]+)*$/, "use dot-separated keys, e.g. data.items")
      .optional()
      .describe("Where the records are: in a .json file the path to their array (data.items); in JSONL, the path in each line to the object holding the row's fields."),
    id_field: z.string().optional().describe("Column holding the item id (default id); #line numbers rows instead."),
    prompt_field: z.string().optional().describe("Column holding a one-turn prompt (default prompt)."),
    behavior_field: z
      .string()
      .optional()
      .describe("Column holding the behaviour a classifier judges against (HarmBench's [BEHAVIOR]) when the prompt sent wraps it (a jailbreak); default: the prompt."),
    category_field: z.string().optional().describe("Column holding the category (default category)."),
    subcategory_field: z.string().optional().describe("Column holding the subcategory (default subcategory)."),
    base_url: z.string().url().optional().describe("Endpoint for bare model names and openai: (else OPENAI_BASE_URL)."),
    generation: generationOptionsSchema.default({}).describe("Generation options of the tested models."),
    providers: z.record(z.string(), providerSchema).default({}).describe("Provider settings by name; new names add OpenAI-compatible (or other) endpoints."),
    // Reproducible, costed, cached and local runs (README: Reproducibility).
    offline: z.boolean().default(false).describe("Refuse every connection except to loopback and allow_hosts: checked before the first call, enforced at the socket level, recorded in the manifest."),
    allow_hosts: commaList.default([]).describe("With offline: hosts (names or addresses) on your own network that may be contacted besides loopback."),
    cache: z.boolean().default(false).describe("Reuse model responses from the response cache (keyed by model, messages, generation options and seed), and store new ones."),
    cache_nondeterministic: z
      .boolean()
      .default(false)
      .describe("With cache: also cache calls sampled at a temperature above 0 without a seed (a rerun then repeats one sample instead of drawing a new one)."),
    max_cost: z.number().positive().optional().describe("Stop the run cleanly (resumable) once this session's calls have cost this many dollars, at the price table's prices."),
    prices: z
      .record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) }).strict())
      .default({})
      .describe("Dollars per million input and output tokens by model (its address or model id), over the built-in price table."),
  })
  .strict();

export type RunConfigInput = z.input<typeof runConfigSchema>;
export type RunConfig = z.output<typeof runConfigSchema>;
export type DriftAlternatives = z.output<typeof driftAlternativesSchema>;
export type JudgeSettings = RunConfig["judge"];
