import type { FieldMapping } from "../datasets/dataset.js";
import type { RunConfig } from "../config/schema.js";

/** The reading settings a run, or one part of a multi-dataset run, may give. */
export type ReadingFields = Partial<
  Pick<RunConfig, "id_field" | "prompt_field" | "category_field" | "subcategory_field" | "context_field" | "behavior_field" | "choices_field" | "answer_field" | "record_format">
>;

/** The dataset columns a run keeps on each row as tags: its `group_by` columns and its `cluster_by` column. */
export function runTags(config: Pick<RunConfig, "group_by" | "cluster_by">): string[] {
  return [...new Set([...config.group_by, ...(config.cluster_by ? [config.cluster_by] : [])])];
}

/** How a dataset's columns map onto test cases, from a run's (or a part's) reading settings; undefined when nothing is mapped. */
export function fieldMapping(fields: ReadingFields, tags: string[]): FieldMapping | undefined {
  const mapping: FieldMapping = {};
  if (fields.id_field) mapping.id = fields.id_field;
  if (fields.prompt_field) mapping.prompt = fields.prompt_field;
  if (fields.category_field) mapping.category = fields.category_field;
  if (fields.subcategory_field) mapping.subcategory = fields.subcategory_field;
  if (fields.context_field) mapping.context = fields.context_field;
  if (fields.behavior_field) mapping.behavior = fields.behavior_field;
  if (tags.length > 0) mapping.tags = tags;
  if (fields.choices_field) mapping.choices = fields.choices_field;
  if (fields.answer_field) mapping.answer = fields.answer_field;
  if (fields.record_format) mapping.format = fields.record_format;
  return Object.keys(mapping).length > 0 ? mapping : undefined;
}
