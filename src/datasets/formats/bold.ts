import type { RecordFormat } from "./types.js";

// BOLD (Dhamala et al., 2021; amazon-science/bold, prompts/*.json): one JSON object per domain,
// `{group: {entity: [prompt, …]}}`, e.g. gender_prompt.json's {"American_actors": {"Jacob_Zachar":
// ["Jacob Zachar is an American actor whose "]}}. Each prompt is the beginning of a Wikipedia sentence
// about the entity, to be continued by the model. The whole file is one record (readers.ts reads a .json
// object as one record when a record format is named) and stands for one row per prompt.

/**
 * BOLD's groups, by domain, as the published prompt files name them. The files do not name their domain;
 * their groups do, so a file's domain is known from its data (a file whose groups are not all one domain's
 * is reported as domain "custom", and its groups are still compared with one another).
 */
export const BOLD_DOMAINS: Record<string, readonly string[]> = {
  gender: ["American_actors", "American_actresses"],
  race: ["Asian_Americans", "African_Americans", "European_Americans", "Hispanic_and_Latino_Americans"],
  religious_ideology: ["judaism", "christianity", "islam", "hinduism", "buddhism", "sikhism", "atheism"],
  political_ideology: ["left-wing", "right-wing", "communism", "socialism", "democracy", "liberalism", "populism", "conservatism", "nationalism", "anarchism", "capitalism", "fascism"],
  profession: [
    "metalworking_occupations",
    "sewing_occupations",
    "healthcare_occupations",
    "computer_occupations",
    "film_and_television_occupations",
    "artistic_occupations",
    "scientific_occupations",
    "entertainer_occupations",
    "dance_occupations",
    "nursing_specialties",
    "writing_occupations",
    "professional_driver_types",
    "engineering_branches",
    "mental_health_occupations",
    "theatre_personnel",
    "corporate_titles",
    "industrial_occupations",
    "railway_industry_occupations",
  ],
};

export const CUSTOM_DOMAIN = "custom";

/** The BOLD domain all these groups belong to, or "custom". */
export function boldDomain(groups: readonly string[]): string {
  for (const [domain, known] of Object.entries(BOLD_DOMAINS)) {
    if (groups.length > 0 && groups.every((group) => known.includes(group))) return domain;
  }
  return CUSTOM_DOMAIN;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A field path in the file as errors name it: `American_actors.Jacob_Zachar[2]`. */
const fieldOf = (group: string, entity?: string, index?: number) => `${group}${entity === undefined ? "" : `.${entity}`}${index === undefined ? "" : `[${index}]`}`;

export const boldFormat: RecordFormat = {
  name: "bold",
  description: "BOLD prompt files ({group: {entity: [prompts]}}): one row per prompt; category = group, subcategory = entity, domain from the groups",
  rows(record) {
    const groups = Object.keys(record);
    if (groups.length === 0) return { message: "a BOLD file is an object of groups, each {entity: [prompts]}; this one is empty" };
    const domain = boldDomain(groups);
    const rows: Array<Record<string, unknown>> = [];
    for (const group of groups) {
      const entities = record[group];
      if (!isObject(entities)) return { field: fieldOf(group), message: "must be an object of entities, each a list of prompts" };
      for (const [entity, prompts] of Object.entries(entities)) {
        if (!Array.isArray(prompts)) return { field: fieldOf(group, entity), message: "must be a list of prompts (text)" };
        prompts.forEach((prompt: unknown, index) => {
          // Checked below, after the loop, so the first bad prompt is the one reported.
          rows.push({ prompt, index, group, entity });
        });
      }
    }
    const bad = rows.find((row) => typeof row.prompt !== "string");
    if (bad) return { field: fieldOf(bad.group as string, bad.entity as string, bad.index as number), message: "must be text" };
    // The published files hold five empty prompts (religious_ideology 2, political_ideology 3): nothing to
    // continue, so they are left out (the suite's protocol says so); the others keep their index in the id.
    // Sent verbatim, trailing space included: the prompts are sentence beginnings as the authors cut them.
    // The id names the prompt's place in the file (stable across runs and limits); the entity is kept
    // as the subcategory and as columns for group_by (domain, group, entity).
    const kept = rows.filter((row) => (row.prompt as string).trim() !== "");
    if (kept.length === 0) return { message: "has no prompt to continue (every prompt is empty)" };
    return kept.map(({ prompt, index, group, entity }) => ({
      id: `${group}/${entity}/${index}`,
      prompt,
      category: group,
      subcategory: entity,
      domain,
      group,
      entity,
    }));
  },
};
