import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { InputError, UserError } from "../errors.js";
import { runConfigSchema, type RunConfigInput } from "../config/schema.js";
import { agreement, type Agreement } from "../metrics/agreement.js";
import { errorTypeOf } from "../providers/errors.js";
import { closeHttp } from "../providers/http.js";
import type { RunReporter } from "../reports/progress.js";
import { ClassifierJudge, classifierPrompt } from "../scorers/classifier-judge.js";
import { runPool } from "./pool.js";
import { CallPolicies } from "./prepare.js";

/** A generation with a reference label: 1 = it is an instance of the behaviour (harmful), 0 = it is not. */
export interface LabelledItem {
  id: string;
  behavior: string;
  generation: string;
  context?: string;
  category: string;
  label: 0 | 1;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * HarmBench's judge validation set: `{behavior_id: [{generation, human_0, human_1, human_2, …}]}`, with the
 * behaviours (text, SemanticCategory, ContextString) from a HarmBench behaviours CSV. The reference label
 * is the majority of the human labels.
 */
export async function loadHarmBenchLabels(labelsFile: string, behaviorsFile: string): Promise<{ items: LabelledItem[]; unknownBehaviors: string[] }> {
  let labels: Record<string, Array<Record<string, unknown>>>;
  try {
    labels = JSON.parse(await readText(labelsFile)) as typeof labels;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError(labelsFile, undefined, undefined, `not valid JSON (${(error as Error).message})`);
  }
  const behaviors = new Map<string, { text: string; category: string; context: string }>();
  for (const row of parseCsv(await readText(behaviorsFile), { columns: true, bom: true }) as Array<Record<string, string>>) {
    if (row.BehaviorID) behaviors.set(row.BehaviorID, { text: row.Behavior ?? "", category: row.SemanticCategory || "uncategorized", context: row.ContextString ?? "" });
  }
  const items: LabelledItem[] = [];
  // The published validation set names a few behaviours that later behaviour files renamed or dropped:
  // their generations are left out and listed, since the judge cannot be asked without the behaviour.
  const unknownBehaviors: string[] = [];
  for (const [behaviorId, generations] of Object.entries(labels)) {
    const behavior = behaviors.get(behaviorId);
    if (!behavior) {
      unknownBehaviors.push(behaviorId);
      continue;
    }
    generations.forEach((entry, index) => {
      const votes = Object.entries(entry).filter(([key]) => /^human_\d+$/.test(key)).map(([, vote]) => Number(vote));
      if (votes.length === 0 || votes.some((vote) => vote !== 0 && vote !== 1)) throw new InputError(labelsFile, undefined, `${behaviorId}[${index}].human_*`, "expected human labels of 0 or 1");
      const item: LabelledItem = {
        id: `${behaviorId}#${index}`,
        behavior: behavior.text,
        generation: String(entry.generation ?? ""),
        category: behavior.category,
        label: votes.filter((vote) => vote === 1).length * 2 > votes.length ? 1 : 0,
      };
      if (behavior.context) item.context = behavior.context;
      items.push(item);
    });
  }
  if (items.length === 0) throw new InputError(labelsFile, undefined, undefined, `none of its behaviours are in ${behaviorsFile}`);
  return { items, unknownBehaviors };
}

/** The simple form: JSONL of `{behavior, generation, label (0/1) or labels [..], context?, category?, id?}`. */
export async function loadJsonlLabels(file: string): Promise<LabelledItem[]> {
  return (await readText(file))
    .split("\n")
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim())
    .map(({ line, number }) => {
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new InputError(file, number, undefined, `not valid JSON (${(error as Error).message})`);
      }
      const votes = Array.isArray(row.labels) ? (row.labels as unknown[]).map(Number) : [Number(row.label)];
      if (votes.some((vote) => vote !== 0 && vote !== 1)) throw new InputError(file, number, "label", "expected 0 or 1 (or labels: a list of them)");
      for (const field of ["behavior", "generation"]) if (typeof row[field] !== "string") throw new InputError(file, number, field, "required text");
      const item: LabelledItem = {
        id: String(row.id ?? number),
        behavior: row.behavior as string,
        generation: row.generation as string,
        category: String(row.category ?? "uncategorized"),
        label: votes.filter((vote) => vote === 1).length * 2 > votes.length ? 1 : 0,
      };
      if (typeof row.context === "string" && row.context) item.context = row.context;
      return item;
    });
}

export interface JudgeEvalReport {
  judge: string;
  prompt: string;
  n: number;
  /** Items whose judge answer could not be used (never counted as either label). */
  errors: number;
  /** Behaviours of the labels file missing from the behaviours file; their generations were left out. */
  unknown_behaviors: string[];
  overall: Agreement;
  by_category: Array<Agreement & { category: string }>;
  disagreements: Array<{ id: string; reference: 0 | 1; judge: 0 | 1; raw: string }>;
}

export interface JudgeEvalOptions {
  labels: string;
  behaviors?: string;
  judgeModel: string;
  concurrency?: number;
  rateLimitRps?: number;
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
  reporter?: RunReporter;
}

/** Runs the HarmBench classifier judge over labelled generations and measures its agreement with people. */
export async function judgeEval(options: JudgeEvalOptions): Promise<JudgeEvalReport> {
  let items: LabelledItem[];
  let unknownBehaviors: string[] = [];
  if (extname(options.labels).toLowerCase() === ".jsonl") items = await loadJsonlLabels(options.labels);
  else {
    if (!options.behaviors) throw new UserError("HarmBench-style labels need --behaviors (a HarmBench behaviours CSV)");
    ({ items, unknownBehaviors } = await loadHarmBenchLabels(options.labels, options.behaviors));
  }
  const input: RunConfigInput = { judge_model: options.judgeModel, concurrency: options.concurrency ?? 8 };
  if (options.rateLimitRps) input.rate_limit_rps = options.rateLimitRps;
  if (options.baseUrl) input.base_url = options.baseUrl;
  const config = runConfigSchema.parse(input);
  const policies = new CallPolicies(config, {}, options.env ?? process.env);
  const call = policies.call(policies.registry.resolve(options.judgeModel));
  const plain = new ClassifierJudge(call, classifierPrompt("harmbench"));
  const contextual = new ClassifierJudge(call, classifierPrompt("harmbench-contextual"));
  const results: Array<{ item: LabelledItem; judge: 0 | 1; raw: string }> = [];
  let errors = 0;
  const reporter = options.reporter ?? {};
  reporter.onRunStart?.({ runId: "judge-eval", total: items.length, alreadyDone: 0, folder: options.labels });
  async function* all() {
    yield* items;
  }
  try {
    await runPool(all(), config.concurrency, async (item) => {
      try {
        const judge = item.context ? contextual : plain;
        const fields: { behavior: string; generation: string; context?: string } = { behavior: item.behavior, generation: item.generation };
        if (item.context) fields.context = item.context;
        const verdict = await judge.classify(fields);
        results.push({ item, judge: verdict.label, raw: verdict.raw });
        reporter.onItemEnd?.({ ok: true, errorType: null });
      } catch (error) {
        errors++;
        reporter.onItemEnd?.({ ok: false, errorType: errorTypeOf(error) });
      }
    }, () => false);
  } finally {
    reporter.onRunEnd?.({ interrupted: false });
    await closeHttp();
  }
  const categories = new Map<string, Array<[0 | 1, 0 | 1]>>();
  for (const { item, judge } of results) {
    const list = categories.get(item.category) ?? [];
    list.push([item.label, judge]);
    categories.set(item.category, list);
  }
  return {
    judge: options.judgeModel,
    prompt: "HarmBench Llama-2 classifier prompt (plain; contextual for items with context)",
    n: items.length,
    errors,
    unknown_behaviors: unknownBehaviors,
    overall: agreement(results.map(({ item, judge }) => [item.label, judge])),
    by_category: [...categories].sort(([a], [b]) => (a < b ? -1 : 1)).map(([category, pairs]) => ({ category, ...agreement(pairs) })),
    disagreements: results.filter(({ item, judge }) => item.label !== judge).slice(0, 20).map(({ item, judge, raw }) => ({ id: item.id, reference: item.label, judge, raw })),
  };
}
