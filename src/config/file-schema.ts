import { z } from "zod";
import { runConfigSchema } from "./schema.js";

type ConfigKey = keyof typeof runConfigSchema.shape;

/**
 * Grouped sections a config or suite file may write its keys in; the loader flattens them onto the flat
 * run config (`data: {dataset: x}` is `dataset: x`). Every key may also be written flat.
 */
export const SECTIONS = {
  data: [
    "dataset",
    "dataset_hint",
    "id_field",
    "prompt_field",
    "behavior_field",
    "category_field",
    "subcategory_field",
    "context_field",
    "choices_field",
    "answer_field",
    "limit",
    "on_bad_row",
    "max_row_bytes",
    "records_path",
    "datasets",
    "part_datasets",
  ],
  scoring: ["scorers", "checks", "scorer_prompts", "judge", "perspective", "mc_template", "add_bos", "scorer_where"],
  report: ["headlines", "group_by", "cluster_by", "suite_metrics"],
} as const satisfies Record<string, readonly ConfigKey[]>;

export type SectionName = keyof typeof SECTIONS;

export const SECTION_DESCRIPTIONS: Record<SectionName, string> = {
  data: "Where the dataset comes from and which columns hold what.",
  scoring: "Which scorers run, and their settings.",
  report: "The headline numbers and how results are broken down.",
};

const includeSchema = z
  .union([z.string(), z.array(z.string())])
  .describe(
    "Another suite this file extends: a built-in suite name, or a path relative to this file (or a list, applied in order). Its keys are the base and this file's override them: maps (providers, roles, judge, scorer_prompts, perspective, generation) merge key by key, lists (scorers, checks, headlines…) and values are replaced.",
  );

function section(name: SectionName) {
  const mask = Object.fromEntries(SECTIONS[name].map((key) => [key, true])) as Record<(typeof SECTIONS)[SectionName][number], true>;
  return runConfigSchema.pick(mask).strict().optional().describe(SECTION_DESCRIPTIONS[name]);
}

/**
 * What a YAML file may say: the flat run config plus `include:` and the grouped sections. Used for the
 * published JSON Schema (editor completion); the loader resolves includes and sections, then validates the
 * flat result with runConfigSchema.
 */
export const configFileSchema = runConfigSchema.extend({
  include: includeSchema.optional(),
  data: section("data"),
  scoring: section("scoring"),
  report: section("report"),
});
