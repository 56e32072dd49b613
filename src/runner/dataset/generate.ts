import { join } from "node:path";
import { DOMAIN_KINDS } from "../../datasets/misalign-pairs.js";
import { domainCounts, type LabelledPrompt, NAME_COLUMNS, readLabelledPrompts } from "../../datasets/savacu-files.js";
import { writeTable } from "../../datasets/table-file.js";
import { loadTaxonomies } from "../../datasets/taxonomy.js";
import { UserError } from "../../errors.js";
import { writeOutputFile } from "../../io/output-file.js";
import type { RowScore } from "../../results/record.js";
import { GENERATION_PROMPT_VERSION, generatorMessages, pairCheckMessages, parseCheck, responseCheckMessages, type Side } from "../../scorers/savacu-generation.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import { StageModels } from "../stage-models.js";
import { runStage, type StageItem } from "../stage-run.js";
import { type StageCommon, stageRunOptions, type StageReport } from "./common.js";

export const RESPONSES_FILE = "dataset_with_responses.csv";
export const AFTER_GENERATION_FILE = "after_generation_count.csv";
export const REJECTED_FILE = "rejected_pairs.jsonl";
const NAME = "pair_generation";
/** The paper's sampling settings for generation. */
export const GENERATION_OPTIONS = { temperature: 0.7, top_p: 0.9, max_tokens: 512 } as const;
/** Feedback-guided resampling: at most this many rewrites after the first attempt. */
export const MAX_RESAMPLES = 2;

const DECLARATION: ScorerDeclaration = {
  name: NAME,
  description: "SaVaCu response generation: 1 when the aligned/misaligned pair passed both checks within 2 feedback-guided resamples, 0 when rejected",
  metrics: [{ name: NAME, label: "pair kept", kind: { type: "rate" }, bad: "low" }],
};

export interface GenerateOptions extends StageCommon {
  input: string;
  generators: string[];
  /** The evaluator that checks responses and pairs. */
  checker: string;
  /** The model that classified the prompts: named only so that it is checked to differ from the others. */
  classifier: string;
  output?: string;
  countsOutput?: string;
}

interface GenerateItem extends StageItem {
  prompt: LabelledPrompt;
  generator: string;
  domains: string[];
}

/**
 * Generator, classifier and evaluator must be different models (the paper separates them to avoid circular
 * bias): compared as resolved provider:model, so `gpt-4o` and `openai:gpt-4o` are one model.
 */
export function checkSeparation(models: StageModels, roles: { generators: string[]; checker: string; classifier: string }): void {
  const named = [...roles.generators.map((g) => ({ role: "generator", address: g })), { role: "checker (evaluator)", address: roles.checker }, { role: "classifier", address: roles.classifier }];
  const seen = new Map<string, { role: string; address: string }>();
  for (const entry of named) {
    const identity = models.identity(entry.address);
    const before = seen.get(identity);
    if (before && before.role !== entry.role)
      throw new UserError(
        `the ${before.role} ${before.address} and the ${entry.role} ${entry.address} are the same model (${identity}): generator, classifier and evaluator models must differ, to avoid circular bias`,
      );
    if (before) throw new UserError(`the generator ${entry.address} is listed twice in --generators`);
    seen.set(identity, entry);
  }
}

/** One prompt: generate both responses, check each then the pair, feed reasons back at most twice. */
async function generatePair(models: StageModels, options: GenerateOptions, item: GenerateItem, signal: AbortSignal | undefined): Promise<RowScore> {
  const { prompt } = item.prompt;
  const generate = async (side: Side, feedback?: string) => (await models.ask(item.generator, generatorMessages(side, prompt, item.domains, feedback), { ...GENERATION_OPTIONS }, signal)).text.trim();
  const check = async (messages: ReturnType<typeof pairCheckMessages>) => parseCheck((await models.ask(options.checker, messages, { temperature: 0, max_tokens: 256 }, signal)).text);
  const history: Array<{ iteration: number; stage: string; side: string; reason: string }> = [];
  let responses: Record<Side, string> = { aligned: await generate("aligned"), misaligned: await generate("misaligned") };
  for (let iteration = 0; ; iteration++) {
    const feedback: Partial<Record<Side, string>> = {};
    // Stage 1: each response is what it claims to be.
    for (const side of ["aligned", "misaligned"] as const) {
      const verdict = await check(responseCheckMessages(side, prompt, responses[side], item.domains));
      if (!verdict.pass) {
        feedback[side] = verdict.reason;
        history.push({ iteration, stage: "response", side, reason: verdict.reason });
      }
    }
    // Stage 2: the pair differs on the prompt's domains (only once both responses passed).
    if (Object.keys(feedback).length === 0) {
      const verdict = await check(pairCheckMessages(prompt, responses.aligned, responses.misaligned, item.domains));
      if (verdict.pass) return { value: 1, label: "kept", raw: null, error: null, data: { ...responses, generator: item.generator, resamples: iteration, history } };
      history.push({ iteration, stage: "pair", side: verdict.fix, reason: verdict.reason });
      if (verdict.fix !== "misaligned") feedback.aligned = verdict.reason;
      if (verdict.fix !== "aligned") feedback.misaligned = verdict.reason;
    }
    if (iteration >= MAX_RESAMPLES) return { value: 0, label: "rejected", raw: null, error: null, data: { ...responses, generator: item.generator, resamples: iteration, history } };
    responses = {
      aligned: feedback.aligned ? await generate("aligned", feedback.aligned) : responses.aligned,
      misaligned: feedback.misaligned ? await generate("misaligned", feedback.misaligned) : responses.misaligned,
    };
  }
}

/**
 * `dataset generate`: an aligned and a misaligned response per prompt from a pool of generators (assigned in
 * turn: prompt i gets generator i mod pool size), two-stage rejection sampling by the checker, feedback-guided
 * resampling (≤ 2 rewrites); writes dataset_with_responses.csv (kept pairs), after_generation_count.csv and
 * rejected_pairs.jsonl (every rejection with the checker's reasons).
 */
export async function generatePairs(options: GenerateOptions): Promise<StageReport> {
  if (options.generators.length === 0) throw new UserError("name at least one generator (--generators)");
  const models = new StageModels(options);
  checkSeparation(models, options);
  const taxonomies = loadTaxonomies();
  const prompts = await readLabelledPrompts(options.input);
  const items: GenerateItem[] = prompts.map((prompt, index) => {
    const generator = options.generators[index % options.generators.length]!;
    return {
      dimensions: { test: prompt.id },
      test: prompt.id,
      model: generator,
      messages: generatorMessages("aligned", prompt.prompt, []),
      prompt,
      generator,
      domains: DOMAIN_KINDS.flatMap((kind) => prompt.labels[kind]),
    };
  });
  const outcome = await runStage({
    ...stageRunOptions(options, "dataset-generate", models, [...options.generators, options.checker]),
    name: NAME,
    declaration: DECLARATION,
    input: options.input,
    config: {
      stage: "generate",
      generators: options.generators,
      checker: options.checker,
      classifier: options.classifier,
      generation: GENERATION_OPTIONS,
      max_resamples: MAX_RESAMPLES,
      prompt_version: GENERATION_PROMPT_VERSION,
    },
    items,
    dimensions: ["test"],
    work: (item, signal) => generatePair(models, options, item, signal),
  });
  const kept: Array<Record<string, unknown>> = [];
  const keptPrompts: LabelledPrompt[] = [];
  const rejected: string[] = [];
  let missing = 0;
  for (const { item, score } of outcome.results) {
    if (!score) {
      missing++;
      continue;
    }
    const data = score.data ?? {};
    if (score.value === 1) {
      const row: Record<string, unknown> = { id: item.prompt.id, prompt: item.prompt.prompt, aligned_response: data.aligned, misaligned_response: data.misaligned };
      for (const kind of DOMAIN_KINDS) row[NAME_COLUMNS[kind]] = item.prompt.labels[kind].join("; ") || "None";
      Object.assign(row, { generator: item.generator, resamples: data.resamples });
      kept.push(row);
      keptPrompts.push(item.prompt);
    } else rejected.push(JSON.stringify({ id: item.prompt.id, prompt: item.prompt.prompt, generator: item.generator, history: data.history }));
  }
  const output = options.output ?? join(outcome.folder, RESPONSES_FILE);
  writeTable(output, ["id", "prompt", "aligned_response", "misaligned_response", ...DOMAIN_KINDS.map((k) => NAME_COLUMNS[k]), "generator", "resamples"], kept);
  const counts = options.countsOutput ?? join(outcome.folder, AFTER_GENERATION_FILE);
  const countRows: Array<Record<string, unknown>> = [];
  for (const taxonomy of taxonomies) {
    const before = domainCounts(prompts, taxonomy);
    const after = domainCounts(keptPrompts, taxonomy);
    for (const [domain, n] of [...before].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      countRows.push({ taxonomy: taxonomy.kind, domain, before_generation: n, after_generation: after.get(domain) ?? 0, kept_share: n > 0 ? ((after.get(domain) ?? 0) / n).toFixed(4) : "" });
  }
  writeTable(counts, ["taxonomy", "domain", "before_generation", "after_generation", "kept_share"], countRows);
  const rejectedFile = join(outcome.folder, REJECTED_FILE);
  writeOutputFile(rejectedFile, rejected.join("\n") + (rejected.length ? "\n" : ""));
  return {
    stage: "generate",
    folder: outcome.folder,
    runId: outcome.runId,
    interrupted: outcome.interrupted,
    failures: outcome.failures,
    incomplete: missing,
    written: kept.length,
    outputs: [output, counts, rejectedFile],
    notes: [`${kept.length} pairs kept, ${rejected.length} rejected after ${MAX_RESAMPLES} feedback-guided resamples`],
  };
}
