import { noteSecrets } from "../secrets.js";
import { urlCredentials } from "../providers/url.js";
import { UserError } from "../errors.js";
import { readTextFile } from "../io/text-file.js";
import { loadPersonasFile, personaCatalog, selectPersonas } from "../personas/load.js";
import type { Persona } from "../personas/persona.js";
import { ModelRegistry, type RegistryOptions, type ResolvedModel } from "../providers/registry.js";
import type { GenerationOptions } from "../providers/types.js";
import type { RunConfig } from "../config/schema.js";
import { DEFAULT_JUDGE_PROMPT, DEFAULT_VERDICT_SCHEMA } from "../scorers/judge/default-prompt.js";
import { LlmJudge } from "../scorers/judge/llm-judge.js";
import { SchemaValidator } from "../scorers/judge/schema-validator.js";
import { SCORER_NAMES, checkScorer, scorer, hasPrompt, isScorerName, scorerNamed, scorerNames, type Scorer, type ScorerServices } from "../scorers/registry.js";
import { PerspectiveClient } from "../providers/perspective.js";
import { withRetries } from "./retry.js";
import { requireBosChoice, requireLoglikelihood } from "../scorers/multiple-choice.js";
import { nearest } from "../config/suggest.js";
import { readReference, suiteMetricNamed } from "../metrics/suite-metrics/registry.js";
import { guardCompletion, guardModel, guardScoring, type CallPolicy } from "./guarded-model.js";
import { RateLimiter } from "./rate-limiter.js";
import { DEFAULT_RETRY_POLICY } from "./retry.js";
import { Semaphore } from "./semaphore.js";
import type { ProviderError } from "../providers/errors.js";
import type { CompletionCall, LanguageModel, ModelCall } from "../providers/types.js";
import type { Plan, RoleModel } from "./plans/types.js";
import { planNamed } from "./plans/registry.js";
import { verdictScorer } from "../scorers/verdict.js";
import { recordedForScorers } from "./scorer-calls.js";
import { applyJudging, describeJudges, panelModels } from "./judging-setup.js";
import type { DownloadProgress } from "../io/download.js";
import { DEFAULT_JUDGE_MAX_TOKENS, DEFAULT_MAX_TOKENS } from "./defaults.js";
import { CachedModels } from "./cached-model.js";
import { defaultCacheFile, ResponseCache } from "./response-cache.js";

/** A model with its policies applied and the options its calls use, in the role it plays. */
export interface RunnableModel extends RoleModel {
  resolved: ResolvedModel;
}

export interface PreparedJudge {
  address: string;
  resolved: ResolvedModel;
  judge: LlmJudge;
  /** The judge model's call, for scorers that ask it their own prompts. */
  call: ModelCall;
  /** Whether the verdict judge (alignbench's JSON verdict) runs on every response. */
  verdict: boolean;
  promptLabel: string;
  promptTemplate: string;
  schema: Record<string, unknown>;
}

export interface PreparedRun {
  personas: Array<Persona | undefined>;
  /** The models under test (the `model` dimension): the target role of each item. */
  models: RunnableModel[];
  /** Every other role's model, by role (judge, attacker, baseline…). */
  roles: Record<string, RunnableModel>;
  plan: Plan;
  judge: PreparedJudge | undefined;
  /** Scorers run on every row after the plan (the verdict judge is the scorer `verdict`). */
  scorers: Scorer[];
  /** What the scorers call (the judge model, the Perspective API), with the run's policies applied. */
  services: ScorerServices;
  secrets: string[];
  /** With --cache: the response cache and what it served. */
  cache?: CachedModels;
}

export interface PrepareHooks {
  onRetry?(model: LanguageModel, error: ProviderError, attempt: number, delayMs: number): void;
  onDownloadProgress?(progress: DownloadProgress): void;
  onServiceRetry?(service: string, error: ProviderError, attempt: number, delayMs: number): void;
  /** Stops the local models' downloads (Ctrl-C before the run starts). */
  signal?: AbortSignal | undefined;
}

/** Builds each model's call policy from the config; models of one provider share its concurrency slots. */
export class CallPolicies {
  readonly registry: ModelRegistry;
  private readonly providerSlots = new Map<string, Semaphore>();
  /** One limiter per model, whatever roles it plays (a model that judges itself has one rate limit, not two). */
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(
    private readonly config: RunConfig,
    private readonly hooks: PrepareHooks,
    env: NodeJS.ProcessEnv,
  ) {
    const registryOptions: RegistryOptions = { providers: config.providers, env, concurrency: config.concurrency };
    if (hooks.onDownloadProgress) registryOptions.onDownloadProgress = hooks.onDownloadProgress;
    if (config.base_url) registryOptions.baseUrl = config.base_url;
    this.registry = new ModelRegistry(registryOptions);
    if (config.cache) this.cached = new CachedModels(new ResponseCache(defaultCacheFile(env)), config.cache_nondeterministic);
  }

  /** The response cache's wrapper, with --cache. */
  readonly cached: CachedModels | undefined;

  /** A model in a role: its options are the role's, then the model's own (providers.<name>.models, more specific). */
  runnable(role: string, address: string, options: GenerationOptions): RunnableModel {
    const resolved = this.registry.resolve(address);
    return { role, address, resolved, options: { ...options, ...resolved.model.defaults }, ...this.guarded(resolved) };
  }

  call(resolved: ResolvedModel): ModelCall {
    const call = guardModel(resolved.model, this.policy(resolved));
    return this.cached ? this.cached.chat(resolved, call) : call;
  }

  /** A model's calls (generation, plain completion and scoring share one policy: one rate limit, one set of slots). */
  guarded(resolved: ResolvedModel): { call: ModelCall; scoring: LanguageModel; complete?: CompletionCall } {
    const policy = this.policy(resolved);
    // The response cache sits outside the policy: an answer it serves takes no rate-limit slot and no retry.
    const guardedComplete = guardCompletion(resolved.model, policy);
    const complete = guardedComplete && this.cached ? this.cached.completion(resolved, guardedComplete) : guardedComplete;
    const call = guardModel(resolved.model, policy);
    return { call: this.cached ? this.cached.chat(resolved, call) : call, scoring: guardScoring(resolved.model, policy), ...(complete ? { complete } : {}) };
  }

  private policy(resolved: ResolvedModel): CallPolicy {
    const policy: CallPolicy = {
      retry: { ...DEFAULT_RETRY_POLICY, retries: this.config.retries },
      timeoutMs: this.config.request_timeout_s * 1000,
    };
    const rps = resolved.rateLimitRps ?? this.config.rate_limit_rps;
    if (rps !== undefined) {
      const key = `${resolved.providerName}:${resolved.model.modelId}`;
      let limiter = this.limiters.get(key);
      if (!limiter) this.limiters.set(key, (limiter = new RateLimiter(rps)));
      policy.rateLimiter = limiter;
    }
    if (resolved.maxConcurrency !== undefined) {
      let slots = this.providerSlots.get(resolved.providerName);
      if (!slots) this.providerSlots.set(resolved.providerName, (slots = new Semaphore(resolved.maxConcurrency)));
      policy.providerSlots = slots;
    }
    if (this.hooks.onRetry) policy.onRetry = this.hooks.onRetry;
    return policy;
  }
}

/** Options with a default max_tokens filled in when they name none (DEFAULT_MAX_TOKENS; judges DEFAULT_JUDGE_MAX_TOKENS). */
export function withDefaultMaxTokens(options: GenerationOptions, fallback = DEFAULT_MAX_TOKENS): GenerationOptions {
  return options.max_tokens === undefined ? { ...options, max_tokens: fallback } : options;
}

/** Everything a run needs that can fail on bad input, resolved before the first model call. */
export async function prepareRun(config: RunConfig, hooks: PrepareHooks = {}, env: NodeJS.ProcessEnv = process.env): Promise<PreparedRun> {
  // Filled into the config itself, so the manifest records the max_tokens every call used.
  config.generation = withDefaultMaxTokens(config.generation);
  config.judge = { ...config.judge, options: withDefaultMaxTokens(config.judge.options, DEFAULT_JUDGE_MAX_TOKENS) };
  const duplicate = config.models.find((model, index) => config.models.indexOf(model) !== index);
  if (duplicate) throw new UserError(`model "${duplicate}" is listed twice`);
  const userPersonas = config.personas_file ? await loadPersonasFile(config.personas_file) : [];
  const personas = selectPersonas(config.personas, personaCatalog(userPersonas));
  const policies = new CallPolicies(config, hooks, env);
  // A panel in the config file alone: its first judge is the judge model.
  if (!config.judge_model && config.judge.panel) config.judge_model = panelModels(config)![0]!;
  const roleAddresses = runRoles(config);
  // Suites scored by log-likelihood only (`respond: false`) generate nothing: their plan makes no call.
  const plan = planNamed(config.respond === false && config.plan === "generate" ? "none" : config.plan);
  const missing = plan.roles.filter((role) => !roleAddresses.has(role));
  if (missing.length > 0)
    throw new UserError(
      `plan ${plan.name} needs the role${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: pass ${missing.map((role) => (role === "judge" ? "--judge-model M" : `--model-role ${role}=M`)).join(" ")}`,
    );
  const models = config.models.map((address) => policies.runnable("target", address, config.generation));
  if (plan.targetCapabilities?.includes("complete")) requireCompletion(plan, models, personas);
  const roles: Record<string, RunnableModel> = {};
  for (const [role, address] of roleAddresses) if (role !== "target") roles[role] = policies.runnable(role, address, role === "judge" ? config.judge.options : config.generation);
  const { verdict, scorers } = await chooseScorers(config);
  // A plan that scores its rows itself (Plan.scores, e.g. drift) gets no default scorer: the judge is its to call.
  const ownScores = plan.scores !== undefined && config.scorers.length === 0;
  const judge = config.judge_model ? await prepareJudge(config, config.judge_model, policies, verdict && !ownScores) : undefined;
  if (judge?.verdict) scorers.unshift(verdictScorer(judge.judge, judge.address));
  scopeScorers(config, scorers);
  // No judge and no scorer: the responses' basic statistics, rather than a summary of counts alone.
  if (!judge && scorers.length === 0 && plan.name !== "none" && !ownScores) scorers.push(scorer("response_stats"));
  // Scorers that ask the judge model record which model answered.
  if (judge) for (const entry of scorers) if (entry.needs === "judge") entry.model ??= judge.address;
  // A judge panel and repeat judging wrap the judge scorers (judging-setup.ts).
  if (judge) await applyJudging(config, scorers, judge, (address) => prepareJudge(config, address, policies, judge.verdict));
  if (judge) await describeJudges(config, scorers, judge);
  const { services, secrets } = prepareServices(config, scorers, judge, hooks, env);
  // Log-likelihood scorers need models that expose them: refused by name now, not on every item.
  if (scorers.some((entry) => entry.needs === "loglikelihood")) for (const model of models) requireBosChoice(requireLoglikelihood(model.resolved.model), config.add_bos);
  // Local models download and load now: a missing or corrupt file stops the run before any item.
  const distinct = new Set([...models, ...Object.values(roles)].map((model) => model.resolved.model));
  for (const model of distinct) await model.prepare?.(hooks.signal ? { signal: hooks.signal } : {});
  return { personas, models, roles, plan, judge, scorers, services, secrets: [...policies.registry.secrets(), ...secrets], ...(policies.cached ? { cache: policies.cached } : {}) };
}

/**
 * A plan that continues text (plain completions) needs targets that can: a chat-only API is refused by name
 * now, never sent a chat turn instead. Personas are system prompts, which a plain completion has no place for.
 */
function requireCompletion(plan: Plan, models: RunnableModel[], personas: Array<Persona | undefined>): void {
  const unable = models.filter((model) => !model.complete);
  if (unable.length > 0) {
    const names = unable.map((model) => `${model.address} (provider ${model.resolved.providerName})`).join(", ");
    throw new UserError(
      `plan ${plan.name} sends a plain text completion (no chat template), which ${names} cannot do: its API only chats. Use a model behind an OpenAI-compatible completions endpoint (openai:, vllm:, ollama:, llamacpp-server:, together:…) or a local llamacpp: model`,
    );
  }
  const persona = personas.find((entry) => entry !== undefined);
  if (persona) throw new UserError(`plan ${plan.name} continues the item's text as it stands: persona "${persona.slug}" (a system prompt) has no place in a plain completion; run without --personas`);
}

/**
 * The run's models by role. `--models` / `models:` are the targets (several: the model dimension) and
 * `--judge-model` the judge; `roles:` / `--model-role role=M` name any role, target and judge included.
 */
export function runRoles(config: RunConfig): Map<string, string> {
  const roles = new Map(Object.entries(config.roles));
  if (roles.has("target")) {
    if (config.models.length > 0 && !(config.models.length === 1 && config.models[0] === roles.get("target")))
      throw new UserError("give the model under test once: --models or roles.target, not both");
    config.models = [roles.get("target")!];
  }
  if (config.judge_model && roles.has("judge") && roles.get("judge") !== config.judge_model) throw new UserError("give the judge once: --judge-model or roles.judge, not both");
  if (roles.has("judge")) config.judge_model = roles.get("judge")!;
  if (config.judge_model) roles.set("judge", config.judge_model);
  roles.delete("target");
  return roles;
}

/** The calls scorers make, each behind a rate limit and retries like model calls. */
export function prepareServices(config: RunConfig, scorers: Scorer[], judge: PreparedJudge | undefined, hooks: PrepareHooks, env: NodeJS.ProcessEnv): { services: ScorerServices; secrets: string[] } {
  const services: ScorerServices = {};
  if (judge) services.judge = judge.call;
  if (!scorers.some((entry) => entry.needs === "perspective")) return { services, secrets: [] };
  const settings = config.perspective;
  const apiKey = env[settings.api_key_env];
  if (!apiKey)
    throw new UserError(`the perspective scorer needs a Perspective API key in $${settings.api_key_env} (environment or .env); or score toxicity with --scorers toxicity_judge and a --judge-model`);
  const client = new PerspectiveClient({
    apiKey,
    attribute: settings.attribute,
    languages: settings.languages,
    timeoutMs: config.request_timeout_s * 1000,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
  });
  const limiter = new RateLimiter(settings.qps);
  const retry = { ...DEFAULT_RETRY_POLICY, retries: config.retries };
  services.perspective = (text, signal) =>
    withRetries(
      async () => {
        await limiter.acquire(signal);
        return client.analyze(text, signal);
      },
      retry,
      { onRetry: (error, attempt, delay) => hooks.onServiceRetry?.("perspective", error, attempt, delay) },
      signal,
    );
  const secrets = [apiKey, ...(settings.endpoint ? urlCredentials(settings.endpoint) : [])];
  noteSecrets(secrets); // for the terminal, like the model registry's
  return { services, secrets };
}

/** Sets each scorer's `where` from the config's scorer_where; a name no running scorer has is refused. */
export function scopeScorers(config: Pick<RunConfig, "scorer_where">, scorers: Scorer[]): void {
  for (const [name, where] of Object.entries(config.scorer_where)) {
    const entry = scorers.find((candidate) => candidate.name === name);
    if (!entry) throw new UserError(`scorer_where: "${name}" is not a scorer of this run (${scorers.map((candidate) => candidate.name).join(", ") || "none"})`);
    if (Object.keys(where).length === 0) throw new UserError(`scorer_where: ${name}: name at least one tag and its value, e.g. { part: helpfulness }`);
    entry.where = where;
  }
}

/**
 * Which scorers run. With no --scorers, the verdict judge runs whenever there is a judge model; naming
 * scorers replaces that default ("verdict" names the verdict judge itself). Config checks always run.
 */
export async function chooseScorers(config: RunConfig): Promise<{ verdict: boolean; scorers: Scorer[] }> {
  const names = config.scorers;
  const scorers: Scorer[] = [];
  for (const name of names) {
    if (name === "verdict") continue;
    const promptFile = config.scorer_prompts[name];
    const made = scorerNamed(name, promptFile ? await readTextFile(promptFile, `${name} prompt`) : undefined, { mcTemplate: config.mc_template, addBos: config.add_bos });
    if (!made) {
      const near = nearest(name, [...scorerNames(), "verdict"]);
      throw new UserError(`unknown scorer "${name}"${near ? ` (did you mean "${near}"?)` : ""}; scorers: verdict, ${scorerNames().join(", ")}`);
    }
    scorers.push(made);
  }
  for (const name of Object.keys(config.scorer_prompts)) {
    if (!isScorerName(name) || !hasPrompt(name)) throw new UserError(`scorer_prompts: "${name}" is not a scorer with a prompt (${SCORER_NAMES.filter(hasPrompt).join(", ")})`);
  }
  for (const check of config.checks) {
    if (check.name === "verdict" || scorerNames().includes(check.name)) throw new UserError(`check "${check.name}": the name is taken by a scorer; choose another`);
    if (scorers.some((entry) => entry.name === check.name)) throw new UserError(`check "${check.name}" is defined twice`);
    scorers.push(checkScorer(check));
  }
  // Suite metrics are computed when the run finishes: a wrong name or option is refused now, not then.
  for (const reference of config.suite_metrics) {
    const { name, options } = readReference(reference);
    suiteMetricNamed(name).create(options);
  }
  const verdict = names.length === 0 ? Boolean(config.judge_model) : names.includes("verdict");
  const needy = [...(names.includes("verdict") ? ["verdict"] : []), ...scorers.filter((entry) => entry.needs === "judge").map((entry) => entry.name)];
  if (needy.length > 0 && !config.judge_model) throw new UserError(`scorer ${needy.join(", ")} needs a judge model: pass --judge-model`);
  return { verdict, scorers };
}

/** The run's judge: its model, prompt template and verdict schema (compiled now, so a bad one fails early). */
export async function prepareJudge(config: RunConfig, address: string, policies: CallPolicies, verdict = true): Promise<PreparedJudge> {
  const resolved = policies.registry.resolve(address);
  // Recorded on the score of the scorer that makes it: the judge's prompt as sent and its answer.
  const call = recordedForScorers(policies.call(resolved), "judge", address);
  const validator = new SchemaValidator();
  const promptTemplate = config.judge.prompt_file ? await readTextFile(config.judge.prompt_file, "judge prompt") : DEFAULT_JUDGE_PROMPT;
  const schema = config.judge.schema_file ? await readJsonSchema(config.judge.schema_file) : DEFAULT_VERDICT_SCHEMA;
  validator.prepare(schema, config.judge.schema_file ?? "default verdict schema");
  return {
    address,
    resolved,
    call,
    verdict,
    promptLabel: config.judge.prompt_file ?? "default",
    promptTemplate,
    schema,
    judge: new LlmJudge({
      modelAddress: address,
      call,
      promptTemplate,
      schema,
      structuredOutput: config.judge.structured_output,
      repairAttempts: config.judge.repair_attempts,
      options: { ...withDefaultMaxTokens(config.judge.options, DEFAULT_JUDGE_MAX_TOKENS), ...resolved.model.defaults },
      validator,
    }),
  };
}

async function readJsonSchema(file: string): Promise<Record<string, unknown>> {
  const text = await readTextFile(file, "judge schema");
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("expected a JSON object");
    return value as Record<string, unknown>;
  } catch (error) {
    throw new UserError(`${file}: not a JSON Schema (${(error as Error).message})`);
  }
}
