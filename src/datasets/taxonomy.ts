import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { UserError } from "../errors.js";
import { readTextFileSync } from "../io/text-file.js";
import type { DomainKind } from "./misalign-pairs.js";

/** The shipped taxonomies: BeaverTails' safety categories, ValueCompass values, UFCS cultural domains. */
export const SAVACU_TAXONOMY_FILE = fileURLToPath(new URL("../../suites/taxonomies/savacu.yaml", import.meta.url));

const taxonomySchema = z.object({
  source: z.string(),
  /** The column naming a prompt's domains in SaVaCu's files. */
  column: z.string(),
  labels: z.array(z.string().min(1)).min(1),
});
const fileSchema = z.object({
  version: z.literal(1),
  taxonomies: z.object({ safety: taxonomySchema, value: taxonomySchema, cultural: taxonomySchema }),
});

export type Taxonomy = z.infer<typeof taxonomySchema> & { kind: DomainKind };

/** The three taxonomies, from the shipped file or one of the same shape. */
export function loadTaxonomies(file = SAVACU_TAXONOMY_FILE): Taxonomy[] {
  const text = readTextFileSync(file, "taxonomy file");
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid YAML (${(error as Error).message})`);
  }
  const checked = fileSchema.safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UserError(`${file}: ${issue.path.join(".") || "(top)"}: ${issue.message} (expected version: 1 and taxonomies: {safety, value, cultural}, each with source, column and labels)`);
  }
  return (["safety", "value", "cultural"] as const).map((kind) => {
    const taxonomy = checked.data.taxonomies[kind];
    const duplicate = taxonomy.labels.find((label, i) => taxonomy.labels.indexOf(label) !== i);
    if (duplicate) throw new UserError(`${file}: taxonomies.${kind}: the label "${duplicate}" is listed twice`);
    return { kind, ...taxonomy };
  });
}
