import { resolve } from "node:path";
import { UserError } from "../errors.js";
import { runConfigSchema, type RunConfig, type RunConfigInput } from "../config/schema.js";
import { checkDataset, streamSamples } from "../datasets/dataset.js";
import { checkParts, streamParts } from "../datasets/parts.js";
import { ensureRemoteDataset, isRemoteReference } from "../io/download.js";
import { priceOf } from "../metrics/prices.js";
import { PRICE_TABLE } from "../metrics/price-table.js";
import { composeMessages } from "../personas/compose.js";
import { loadPersonasFile, personaCatalog, selectPersonas } from "../personas/load.js";
import type { Persona } from "../personas/persona.js";
import { ModelRegistry } from "../providers/registry.js";
import type { LanguageModel } from "../providers/types.js";
import { DEFAULT_JUDGE_PROMPT } from "../scorers/judge/default-prompt.js";
import { resolveParts } from "./dataset-parts.js";
import { BUILTIN_MINI_SUITE, DEFAULT_JUDGE_MAX_TOKENS, DEFAULT_LOCAL_MODEL, DEFAULT_MAX_TOKENS } from "./defaults.js";
import { fieldMapping, runTags } from "./field-mapping.js";
import { planNamed } from "./plans/registry.js";
import type { RoleModel } from "./plans/types.js";
import { chooseScorers, runRoles } from "./prepare.js";
import { itemsPerTest, runAxes } from "./work-items.js";

/** What one role's model is expected to be asked over a run. */
export interface RoleEstimate {
  role: string;
  model: string;
  /** Calls: exact for the plan's calls of plans with a known count; a lower bound where repairs or turns may add some. */
  calls: number;
  callsAtLeast: boolean;
  inputTokens: number;
  /** How input tokens were counted: the model's own tokenizer, or ~4 characters per token. */
  tokenizer: "model" | "estimate";
  /** An upper bound: every call using its whole max_tokens. */
  outputTokensAtMost: number;
  /** Dollars at the model's price, input + output at most; null without a price. */
  costAtMost: number | null;
  priceSource: string | null;
  /** Seconds the calls need at the configured rate limit; null without one (then latency decides). */
  secondsAtRateLimit: number | null;
}

export interface RunEstimate {
  rows: number;
  itemsPerRow: number;
  items: number;
  plan: string;
  roles: RoleEstimate[];
  totalCostAtMost: number | null;
  costPartial: boolean;
  priceTableDate: string;
  notes: string[];
}

/** Characters per token where no tokenizer is known (OpenAI's rule of thumb for English text). */
const CHARACTERS_PER_TOKEN = 4;

/**
 * What a run would ask of each role, before anything runs: the dataset is read (and validated) for its rows
 * and their lengths, no model is loaded or called. Input tokens come from a local model's own tokenizer (its
 * vocabulary alone is read) or ~4 characters per token, labelled as an estimate; output tokens and cost are
 * upper bounds (every call using its max_tokens); time is the rate limit's floor.
 */
export async function estimateRun(input: RunConfigInput | RunConfig, env: NodeJS.ProcessEnv = process.env): Promise<RunEstimate> {
  const config = runConfigSchema.parse(input);
  if (config.models.length === 0) config.models = [DEFAULT_LOCAL_MODEL];
  const notes: string[] = [];
  const roles = runRoles(config);
  const plan = planNamed(config.respond === false && config.plan === "generate" ? "none" : config.plan);
  const { verdict, scorers } = await chooseScorers(config);
  const personas = selectPersonas(config.personas, personaCatalog(config.personas_file ? await loadPersonasFile(config.personas_file) : []));
  const registry = new ModelRegistry({ providers: config.providers, env, ...(config.base_url ? { baseUrl: config.base_url } : {}) });
  const axes = runAxes(
    config.models.map((address) => ({ address }) as RoleModel),
    personas,
    config.epochs,
    plan.axes?.(config.plan_options),
  );
  const perRow = itemsPerTest(axes);
  // Lengths of what the target is sent, per row (with each persona), read once.
  const { rows, promptCharacters, userTurns, texts } = await readLengths(config, personas, env);
  const items = rows * perRow;
  // The texts cover each row once per persona: every model gets them once per epoch and plan dimension value.
  const repeat = perRow / (Math.max(1, personas.length) * config.models.length);
  const averagePrompt = promptCharacters / Math.max(1, texts.length);

  const estimates: RoleEstimate[] = [];
  const generation = config.generation;
  const targetMaxTokens = generation.max_tokens ?? DEFAULT_MAX_TOKENS;
  const targetCallsPerItem = plan.name === "none" ? 0 : plan.name === "multi_turn" ? userTurns / Math.max(1, rows) : 1;
  if (!["generate", "multi_turn", "completion", "chat_continuation", "pairwise", "none"].includes(plan.name))
    notes.push(`plan ${plan.name}: its calls per item are not known in advance; counted as one call per role per item`);
  for (const address of config.models) {
    const model = registry.resolve(address);
    const calls = Math.round((targetCallsPerItem * items) / config.models.length);
    const counted = await countTokens(model.model, texts, promptCharacters);
    const inputTokens = Math.round(counted.tokens * repeat);
    estimates.push(roleEstimate("target", address, model, calls, plan.name === "multi_turn", inputTokens, counted.tokenizer, calls * targetMaxTokens, config));
  }
  for (const [role, address] of roles) {
    if (role === "judge") continue;
    const model = registry.resolve(address);
    const calls = plan.roles.includes(role) ? items : 0;
    if (calls === 0) notes.push(`role ${role} (${address}) is not one the plan ${plan.name} calls`);
    const counted = await countTokens(model.model, texts, promptCharacters);
    const inputTokens = calls > 0 ? Math.round(counted.tokens * repeat * config.models.length) : 0;
    estimates.push(roleEstimate(role, address, model, calls, true, inputTokens, counted.tokenizer, calls * (generation.max_tokens ?? DEFAULT_MAX_TOKENS), config));
  }
  const judgeAddress = roles.get("judge");
  if (judgeAddress) {
    // Each judging scorer asks once per item (the verdict judge more when an answer must be repaired); the
    // judge reads the item, the response (at most max_tokens of it) and its prompt.
    const judging = (verdict && plan.scores === undefined ? 1 : 0) + scorers.filter((entry) => entry.needs === "judge").length;
    const model = registry.resolve(judgeAddress);
    const calls = judging * items;
    const responseCharacters = targetMaxTokens * CHARACTERS_PER_TOKEN;
    const characters = (averagePrompt + responseCharacters + DEFAULT_JUDGE_PROMPT.length) * calls;
    const judgeMax = config.judge.options.max_tokens ?? DEFAULT_JUDGE_MAX_TOKENS;
    estimates.push(roleEstimate("judge", judgeAddress, model, calls, true, Math.ceil(characters / CHARACTERS_PER_TOKEN), "estimate", calls * judgeMax, config));
    notes.push("judge input tokens assume responses of max_tokens (an upper bound), and ~4 characters per token");
  }
  const priced = estimates.filter((entry) => entry.costAtMost !== null);
  return {
    rows,
    itemsPerRow: perRow,
    items,
    plan: plan.name,
    roles: estimates,
    totalCostAtMost: priced.length > 0 ? priced.reduce((sum, entry) => sum + entry.costAtMost!, 0) : null,
    costPartial: priced.length < estimates.filter((entry) => entry.calls > 0).length,
    priceTableDate: PRICE_TABLE.date,
    notes,
  };
}

function roleEstimate(
  role: string,
  address: string,
  resolved: ReturnType<ModelRegistry["resolve"]>,
  calls: number,
  callsAtLeast: boolean,
  inputTokens: number,
  tokenizer: RoleEstimate["tokenizer"],
  outputTokensAtMost: number,
  config: RunConfig,
): RoleEstimate {
  const price = priceOf(address, { provider: resolved.providerName, model_id: resolved.model.modelId }, config.prices);
  const rps = resolved.rateLimitRps ?? config.rate_limit_rps;
  return {
    role,
    model: address,
    calls,
    callsAtLeast,
    inputTokens,
    tokenizer,
    outputTokensAtMost,
    costAtMost: price ? (inputTokens * price.input + outputTokensAtMost * price.output) / 1e6 : null,
    priceSource: price?.source ?? null,
    secondsAtRateLimit: rps ? calls / rps : null,
  };
}

/** The input tokens of the texts a model is sent: its own tokenizer where it has one (local models), else ~4 characters per token. */
async function countTokens(model: LanguageModel, texts: string[], characters: number): Promise<{ tokens: number; tokenizer: RoleEstimate["tokenizer"] }> {
  if (model.tokenize) {
    try {
      let tokens = 0;
      for (const text of texts) tokens += (await model.tokenize(text)).ids.length;
      return { tokens, tokenizer: "model" };
    } catch {
      // No tokenizer after all (node-llama-cpp missing): the estimate below.
    }
  }
  return { tokens: Math.ceil(characters / CHARACTERS_PER_TOKEN), tokenizer: "estimate" };
}

/** Rows, and what every row sends the target (each persona's version): total characters, user turns, and the texts. */
async function readLengths(config: RunConfig, personas: Array<Persona | undefined>, env: NodeJS.ProcessEnv): Promise<{ rows: number; promptCharacters: number; userTurns: number; texts: string[] }> {
  let samples: AsyncIterable<import("../datasets/sample.js").Sample>;
  let rows: number;
  if (config.datasets) {
    const parts = await resolveParts(config, { env });
    const checked = await checkParts(parts.readings, config.on_bad_row);
    samples = streamParts(checked);
    rows = checked.validRows;
  } else {
    let dataset = config.dataset ?? BUILTIN_MINI_SUITE;
    if (isRemoteReference(dataset)) dataset = await ensureRemoteDataset(dataset, { env });
    const checked = await checkDataset(resolve(dataset), config.on_bad_row, config.limit, fieldMapping(config, runTags(config)), config.max_row_bytes, config.records_path);
    samples = streamSamples(checked, config.limit);
    rows = checked.validRows;
  }
  if (rows === 0) throw new UserError("the dataset has no valid rows: nothing to estimate");
  let promptCharacters = 0;
  let userTurns = 0;
  const texts: string[] = [];
  for await (const sample of samples) {
    userTurns += sample.conversation.filter((message) => message.role === "user").length;
    for (const persona of personas) {
      const text = composeMessages(sample, persona)
        .map((message) => message.content)
        .join("\n");
      promptCharacters += text.length;
      texts.push(text);
    }
  }
  // Per row, over the personas: the counts above cover each persona's version once.
  return { rows, promptCharacters, userTurns, texts };
}
