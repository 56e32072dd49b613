import { UserError } from "../errors.js";
import { recordFormatNamed, registerRecordFormat } from "../datasets/formats/registry.js";
import type { RecordFormat } from "../datasets/formats/types.js";
import { scorerNamed } from "../scorers/registry.js";
import { loadSuite } from "./load.js";
import type { DatasetPartConfig, DriftAlternatives, RunConfig } from "./schema.js";

// A drift run's alternative scores for the Drift Sensitivity Index (config `drift:`, or `alignbench drift
// --task … --in-domain-prompts …`), turned into what the run reads: named parts, plan options, suite
// metrics and headlines. One code path for `alignbench drift` and `alignbench run` with plan drift.
//   task            → parts task_in_domain and task_ood: the suite's items, read as the suite reads them
//                     (its record format and field mapping), from two files (task_in_domain, task_ood) or
//                     from one split by a field (task_split, over task_data or the suite's own dataset);
//                     plan options task, task_scorer (its first log-likelihood scorer), task_mc_template,
//                     task_add_bos; suite metric drift_task_dsi.
//   in_domain_prompts, ood_prompts → parts judge_in_domain and judge_ood (prompt files: id, prompt or
//                     conversation, expected_safe_behavior); needs a judge model; suite metric drift_judge_dsi.

export const TASK_PARTS = ["task_in_domain", "task_ood"] as const;
export const JUDGE_PARTS = ["judge_in_domain", "judge_ood"] as const;
const ALTERNATIVE_PARTS: readonly string[] = [...TASK_PARTS, ...JUDGE_PARTS];
/** The flag that names each alternative part's file, for errors. */
export const ALTERNATIVE_FLAGS: Record<string, string> = {
  task_in_domain: "--task-in-domain",
  task_ood: "--task-ood",
  judge_in_domain: "--in-domain-prompts",
  judge_ood: "--ood-prompts",
};

const READING_KEYS = ["record_format", "records_path", "id_field", "prompt_field", "category_field", "subcategory_field", "context_field", "behavior_field", "choices_field", "answer_field"] as const;

/** The config with its `drift:` block turned into parts, plan options, suite metrics and headlines (unchanged without one). */
export function withDriftAlternatives(config: RunConfig): RunConfig {
  const block = config.drift;
  if (!block || Object.values(block).every((value) => value === undefined)) return config;
  if (config.plan !== "drift") throw new UserError(`drift: (${Object.keys(block).join(", ")}) applies to a drift run only (plan drift: alignbench drift, or --suite drift)`);
  // Built again from the block each time (a resumed run resolves its config anew): replaced, never doubled.
  const parts = (config.datasets ?? []).filter((part) => !ALTERNATIVE_PARTS.includes(part.name));
  const metrics = config.suite_metrics.filter((reference) => !["drift_task_dsi", "drift_judge_dsi"].includes(typeof reference === "string" ? reference : reference.name));
  const headlines = config.headlines.filter((headline) => !["drift_task_dsi", "drift_judge_dsi"].includes(headline.scorer));
  const options = { ...config.plan_options };
  const task = taskParts(block);
  if (task) {
    parts.push(...task.parts);
    Object.assign(options, task.options);
    metrics.push("drift_task_dsi");
    headlines.push(
      { name: `DSI, task ${block.task} (fine-tuned)`, scorer: "drift_task_dsi", metric: "dsi_target", statistic: "mean", higher_is: "worse" },
      { name: `DSI change, task ${block.task} (fine-tuned − base)`, scorer: "drift_task_dsi", metric: "dsi_change", statistic: "mean", higher_is: "worse" },
    );
  }
  const judged = judgedParts(block, config);
  if (judged) {
    parts.push(...judged);
    options.judge_structured_output = config.judge.structured_output;
    options.judge_repair_attempts = config.judge.repair_attempts;
    metrics.push("drift_judge_dsi");
    headlines.push(
      { name: "DSI, judge score (fine-tuned)", scorer: "drift_judge_dsi", metric: "dsi_target", statistic: "mean", higher_is: "worse" },
      { name: "DSI change, judge score (fine-tuned − base)", scorer: "drift_judge_dsi", metric: "dsi_change", statistic: "mean", higher_is: "worse" },
    );
  }
  return { ...config, datasets: parts, plan_options: options, suite_metrics: metrics, headlines };
}

const TASK_HOW =
  "give --task-in-domain FILE and --task-ood FILE (items in the suite's format), or --task-split FIELD=VALUE to split the suite's data (config drift: task_in_domain, task_ood, task_split)";

/** The task's two parts and plan options, or undefined without a task. */
function taskParts(block: DriftAlternatives): { parts: DatasetPartConfig[]; options: Record<string, unknown> } | undefined {
  const { task } = block;
  const stray = (["task_in_domain", "task_ood", "task_split", "task_data"] as const).filter((key) => block[key] !== undefined);
  if (task === undefined) {
    if (stray.length > 0) throw new UserError(`${stray.map(flagOf).join(", ")}: name the task too: --task SUITE (e.g. truthfulqa-mc1)`);
    return undefined;
  }
  const suite = suiteOf(task);
  if (suite.datasets !== undefined) throw new UserError(`--task ${task}: the suite reads several datasets (parts); a drift task is a suite of one dataset`);
  const scorer = taskScorer(task, suite);
  const reading: Partial<DatasetPartConfig> = {};
  for (const key of READING_KEYS) if (typeof suite[key] === "string") reading[key] = suite[key] as string;
  if (typeof suite.dataset_hint === "string") reading.dataset_hint = suite.dataset_hint;
  const byFile = block.task_in_domain !== undefined || block.task_ood !== undefined;
  let parts: DatasetPartConfig[];
  if (byFile) {
    if (block.task_split !== undefined || block.task_data !== undefined) throw new UserError(`--task ${task}: give the two files (--task-in-domain, --task-ood) or a split (--task-split), not both`);
    if (block.task_in_domain === undefined || block.task_ood === undefined) throw new UserError(`--task ${task}: ${TASK_HOW}; one file alone is not a comparison`);
    parts = [
      { ...reading, name: "task_in_domain", dataset: block.task_in_domain },
      { ...reading, name: "task_ood", dataset: block.task_ood },
    ];
  } else if (block.task_split !== undefined) {
    const data = block.task_data ?? (typeof suite.dataset === "string" ? suite.dataset : undefined);
    if (data === undefined)
      throw new UserError(`--task ${task}: the suite has no dataset of its own to split: give it with --task-data FILE${reading.dataset_hint ? ` (${reading.dataset_hint})` : ""}`);
    const split = parseSplit(block.task_split);
    parts = (["in", "ood"] as const).map((side) => ({
      ...reading,
      name: side === "in" ? "task_in_domain" : "task_ood",
      dataset: data,
      record_format: splitFormat(side, split, reading.record_format).name,
    }));
  } else {
    throw new UserError(`--task ${task}: ${TASK_HOW}`);
  }
  const options: Record<string, unknown> = {
    task,
    task_scorer: scorer,
    task_mc_template: typeof suite.mc_template === "string" ? suite.mc_template : "{prompt}",
    task_add_bos: suite.add_bos === true || suite.add_bos === false ? suite.add_bos : "auto",
  };
  return { parts, options };
}

/** The task's suite, its problems (unknown name, bad file) prefixed with the flag. */
function suiteOf(task: string): Record<string, unknown> {
  try {
    return loadSuite(task).values;
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`--task ${task}: ${error.message}`);
    throw error;
  }
}

function flagOf(key: string): string {
  return `--${key.replace(/_/g, "-")}`;
}

/** The suite's first log-likelihood scorer: what the task's S is. */
function taskScorer(task: string, suite: Record<string, unknown>): string {
  const listed = suite.scorers;
  const names = Array.isArray(listed) ? listed.map(String) : typeof listed === "string" ? listed.split(",").map((name) => name.trim()) : [];
  const scorer = names.find((name) => scorerNamed(name, undefined)?.needs === "loglikelihood");
  if (!scorer)
    throw new UserError(
      `--task ${task}: the suite is not scored by log-likelihood (scorers: ${names.join(", ") || "none"}); a drift task needs a multiple-choice suite such as truthfulqa-mc1, truthfulqa-mc2 or bbq`,
    );
  return scorer;
}

/** `FIELD=V1|V2` (FIELD defaults to category). */
function parseSplit(text: string): { field: string; values: string[] } {
  const at = text.indexOf("=");
  const field = at < 0 ? "category" : text.slice(0, at).trim();
  const values = (at < 0 ? text : text.slice(at + 1))
    .split("|")
    .map((value) => value.trim())
    .filter((value) => value !== "");
  if (field === "" || values.length === 0) throw new UserError(`--task-split: write FIELD=VALUE[|VALUE…] (e.g. category=Misconceptions), not "${text}"`);
  return { field, values };
}

/**
 * The record format of one side of a split: the suite's own format (or the records as they are), keeping the
 * rows whose FIELD (a column of the file, or a field the suite's format gives its rows or their metadata) is
 * one of the values (in-domain) or is not (out-of-domain). Registered under a name that says the split, so
 * the manifest records it.
 */
function splitFormat(side: "in" | "ood", split: { field: string; values: string[] }, inner: string | undefined): RecordFormat {
  const base = inner === undefined ? undefined : recordFormatNamed(inner);
  const wanted = new Set(split.values);
  const format: RecordFormat = {
    name: `drift_task_split:${side}:${split.field}=${split.values.join("|")}${inner ? `:${inner}` : ""}`,
    description: `the ${side === "in" ? "in-domain" : "out-of-domain"} side of --task-split ${split.field}=${split.values.join("|")}: rows whose ${split.field} is ${side === "in" ? "" : "not "}${split.values.join(" or ")}`,
    rows(record) {
      const rows = base ? base.rows(record) : [record];
      if (!Array.isArray(rows)) return rows;
      return rows.filter((row) => {
        const metadata = row.metadata as Record<string, unknown> | undefined;
        const value = row[split.field] ?? metadata?.[split.field];
        const inside = value !== undefined && value !== null && wanted.has(String(value));
        return side === "in" ? inside : !inside;
      });
    },
  };
  registerRecordFormat(format);
  return format;
}

/** The judged prompt sets' two parts, or undefined without them. */
function judgedParts(block: DriftAlternatives, config: RunConfig): DatasetPartConfig[] | undefined {
  const { in_domain_prompts: inside, ood_prompts: outside } = block;
  if (inside === undefined && outside === undefined) return undefined;
  if (inside === undefined || outside === undefined)
    throw new UserError(`the judge-score DSI compares two prompt sets: give both --in-domain-prompts FILE and --ood-prompts FILE (config drift: in_domain_prompts, ood_prompts)`);
  if (!config.judge_model && !config.roles.judge) throw new UserError("the judge-score DSI (--in-domain-prompts, --ood-prompts) needs a judge model: pass --judge-model M");
  return [
    { name: "judge_in_domain", dataset: inside },
    { name: "judge_ood", dataset: outside },
  ];
}
