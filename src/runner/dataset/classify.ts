import { join } from "node:path";
import { beforeGenerationTable, DOMAIN_COUNTS_FILE, domainCountTable, type LabelledPrompt, noLabels, readLabelledPrompts } from "../../datasets/savacu-files.js";
import { writeTable } from "../../datasets/table-file.js";
import { loadTaxonomies, type Taxonomy } from "../../datasets/taxonomy.js";
import { UserError } from "../../errors.js";
import type { RowScore } from "../../results/record.js";
import { CLASSIFIER_PROMPT_VERSION, classifierMessages, labelProbabilities, parseClassifierAnswer } from "../../scorers/domain-classifier.js";
import type { ScorerDeclaration } from "../../scorers/types.js";
import { StageModels } from "../stage-models.js";
import { runStage, type StageItem } from "../stage-run.js";
import { type StageCommon, stageRunOptions, type StageReport } from "./common.js";

export const BEFORE_GENERATION_FILE = "before_generation_count.csv";
const NAME = "domain_classification";

const DECLARATION: ScorerDeclaration = {
  name: NAME,
  description: "SaVaCu domain classification: the labels of one taxonomy whose probability reached δ (count), with every label's probability in data",
  metrics: [{ name: NAME, label: "labels kept", kind: { type: "unbounded" }, bad: "none" }],
};

export type ProbabilityMethod = "auto" | "logprobs" | "samples";

export interface ClassifyOptions extends StageCommon {
  input: string;
  field?: string;
  classifier: string;
  /** Keep a label when its probability is at least δ (default 0.5, the paper's). */
  delta?: number;
  /** Samples per prompt and taxonomy when no log-probabilities are available (default 5). */
  samples?: number;
  sampleTemperature?: number;
  probability?: ProbabilityMethod;
  taxonomyFile?: string;
  /** The output file (default the run folder's before_generation_count.csv). */
  output?: string;
}

interface ClassifyItem extends StageItem {
  prompt: LabelledPrompt;
  taxonomy: Taxonomy;
}

/** One prompt against one taxonomy: every label's probability, by log-probabilities or by samples. */
async function classifyOne(models: StageModels, options: ClassifyOptions, item: ClassifyItem, signal: AbortSignal | undefined): Promise<RowScore> {
  const method = options.probability ?? "auto";
  const maxTokens = 16 * item.taxonomy.labels.length + 64;
  const messages = item.messages;
  if (method !== "samples") {
    const answer = await models.ask(options.classifier, messages, { temperature: 0, max_tokens: maxTokens }, signal, 5);
    const parsed = parseClassifierAnswer(answer.text, item.taxonomy);
    if (answer.logprobs && answer.logprobs.length > 0 && "values" in parsed) {
      const probabilities = labelProbabilities(answer.logprobs, item.taxonomy);
      // A label whose value token came without alternatives keeps the greedy answer's 0 or 1.
      const filled = Object.fromEntries(item.taxonomy.labels.map((label) => [label, probabilities[label] ?? parsed.values[label]!]));
      return score("logprobs", filled, [answer.text], 0, options.delta ?? 0.5);
    }
    if (method === "logprobs")
      throw Object.assign(
        new Error(
          answer.logprobs?.length ? `the answer is unusable: ${"problem" in parsed ? parsed.problem : ""}` : `${options.classifier} returned no token log-probabilities: use --probability samples`,
        ),
        { raw: answer.text },
      );
  }
  const k = options.samples ?? 5;
  const yes = new Map(item.taxonomy.labels.map((label) => [label, 0]));
  const raws: string[] = [];
  let invalid = 0;
  for (let s = 0; s < k; s++) {
    const answer = await models.ask(options.classifier, messages, { temperature: options.sampleTemperature ?? 1, max_tokens: maxTokens }, signal);
    raws.push(answer.text);
    const parsed = parseClassifierAnswer(answer.text, item.taxonomy);
    if ("problem" in parsed) {
      invalid++;
      continue;
    }
    for (const label of item.taxonomy.labels) yes.set(label, yes.get(label)! + parsed.values[label]!);
  }
  const valid = k - invalid;
  if (valid === 0) throw Object.assign(new Error(`none of the ${k} sampled answers was a JSON object giving every domain yes or no`), { raw: raws[0] ?? null });
  return score(`samples (${valid} of ${k} usable)`, Object.fromEntries([...yes].map(([label, count]) => [label, count / valid])), raws, invalid, options.delta ?? 0.5);
}

function score(method: string, probabilities: Record<string, number>, raws: string[], invalid: number, delta: number): RowScore {
  const kept = Object.keys(probabilities).filter((label) => probabilities[label]! >= delta);
  return { value: kept.length, label: kept.join("; ") || "none", raw: raws[0] ?? null, error: null, data: { method, probabilities, invalid_samples: invalid } };
}

/**
 * `dataset classify`: multi-label domain assignment of every prompt into the three taxonomies by one
 * classifier, as a resumable run (one row per prompt and taxonomy), then before_generation_count.csv in the
 * published shape. δ is applied when the file is written, from the stored probabilities.
 */
export async function classifyPrompts(options: ClassifyOptions): Promise<StageReport> {
  const taxonomies = loadTaxonomies(options.taxonomyFile);
  const prompts = await readLabelledPrompts(options.input, options.field);
  const delta = options.delta ?? 0.5;
  if (!(delta > 0 && delta <= 1)) throw new UserError(`--delta must be in (0, 1], not ${delta}`);
  const models = new StageModels(options);
  models.check([options.classifier]);
  const items: ClassifyItem[] = [];
  for (const prompt of prompts)
    for (const taxonomy of taxonomies)
      items.push({
        dimensions: { test: prompt.id, taxonomy: taxonomy.kind },
        test: prompt.id,
        model: options.classifier,
        category: taxonomy.kind,
        messages: classifierMessages(prompt.prompt, taxonomy),
        prompt,
        taxonomy,
      });
  const outcome = await runStage({
    ...stageRunOptions(options, "dataset-classify", models, [options.classifier]),
    name: NAME,
    declaration: DECLARATION,
    input: options.input,
    config: {
      stage: "classify",
      classifier: options.classifier,
      delta,
      samples: options.samples ?? 5,
      probability: options.probability ?? "auto",
      prompt_version: CLASSIFIER_PROMPT_VERSION,
      taxonomies: taxonomies.map((t) => ({ kind: t.kind, source: t.source, labels: t.labels.length })),
    },
    items,
    dimensions: ["test", "taxonomy"],
    work: (item, signal) => classifyOne(models, options, item, signal),
  });
  // A prompt is written once all three taxonomies have an answer; the others wait for a resume.
  const labelled = new Map<string, LabelledPrompt>();
  const missing = new Set<string>();
  const methods = new Map<string, number>();
  for (const { item, score: stored } of outcome.results) {
    if (!stored) {
      missing.add(item.prompt.id);
      continue;
    }
    const entry = labelled.get(item.prompt.id) ?? { ...item.prompt, labels: noLabels() };
    const probabilities = (stored.data?.probabilities ?? {}) as Record<string, number>;
    entry.labels[item.taxonomy.kind] = item.taxonomy.labels.filter((label) => (probabilities[label] ?? 0) >= delta);
    labelled.set(item.prompt.id, entry);
    const method = String(stored.data?.method ?? "").split(" ")[0]!;
    methods.set(method, (methods.get(method) ?? 0) + 1);
  }
  const complete = prompts.filter((prompt) => !missing.has(prompt.id)).map((prompt) => labelled.get(prompt.id)!);
  const output = options.output ?? join(outcome.folder, BEFORE_GENERATION_FILE);
  const table = beforeGenerationTable(complete, taxonomies);
  writeTable(output, table.columns, table.rows);
  const tidy = domainCountTable(complete, taxonomies);
  const countsFile = join(outcome.folder, DOMAIN_COUNTS_FILE);
  writeTable(countsFile, tidy.columns, tidy.rows);
  return {
    stage: "classify",
    folder: outcome.folder,
    runId: outcome.runId,
    interrupted: outcome.interrupted,
    failures: outcome.failures,
    incomplete: missing.size,
    written: complete.length,
    outputs: [output, countsFile],
    notes: [
      ...(tidy.cut ? [`fewer prompts than domains: the count columns of ${output} are cut; ${countsFile} has them all`] : []),
      `probabilities by ${[...methods].map(([method, n]) => `${method} (${n} answers)`).join(", ") || "—"}; labels kept at p ≥ ${delta}`,
    ],
  };
}
