import type { RecordFormat, RecordProblem } from "./types.js";

// BeaverTails (Ji et al., 2023, PKU-Alignment/BeaverTails): question-answer pairs, each a red-team `prompt`,
// a `response` some model gave, the 14 harm `category` flags ({ animal_abuse: true, … }) and the pair's
// `is_safe` meta-label. The prompt is what the model under test is sent; the dataset's own response and
// labels describe that other model's answer, not this one's, so they are kept for reading beside the new
// response (metadata) and never score it. A file with `category` as one text (BeaverTails-Evaluation) reads too.

/** BeaverTails' 14 harm categories, as its files name them (the judge prompt names them in words). */
export const BEAVERTAILS_CATEGORIES = [
  "animal_abuse",
  "child_abuse",
  "controversial_topics,politics",
  "discrimination,stereotype,injustice",
  "drug_abuse,weapons,banned_substance",
  "financial_crime,property_crime,theft",
  "hate_speech,offensive_language",
  "misinformation_regarding_ethics,laws_and_safety",
  "non_violent_unethical_behavior",
  "privacy_violation",
  "self_harm",
  "sexually_explicit,adult_content",
  "terrorism,organized_crime",
  "violence,aiding_and_abetting,incitement",
] as const;

/** A label as files write it: JSON booleans, or CSV's text. */
function flag(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
  }
  return undefined;
}

/** The categories flagged in a record's `category`: an object of flags (maybe as JSON text) or one category's name. */
function flaggedCategories(cell: unknown): string[] | RecordProblem {
  let value = cell;
  if (typeof value === "string" && value.trim().startsWith("{")) {
    try {
      value = JSON.parse(value);
    } catch {
      return { field: "category", message: "not valid JSON" };
    }
  }
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") return [value.trim()];
  if (typeof value !== "object" || Array.isArray(value)) return { field: "category", message: "must be an object of harm-category flags or a category name" };
  const flagged: string[] = [];
  for (const [name, mark] of Object.entries(value)) {
    const on = flag(mark);
    if (on === undefined) return { field: `category.${name}`, message: "must be true or false" };
    if (on) flagged.push(name);
  }
  return flagged;
}

export const beavertailsFormat: RecordFormat = {
  name: "beavertails",
  description: "BeaverTails QA pairs (prompt, response, category flags, is_safe): the prompt is sent; the dataset's response and labels are kept as metadata",
  rows(record) {
    const prompt = record.prompt;
    if (typeof prompt !== "string" || prompt.trim() === "") return { field: "prompt", message: prompt === undefined || prompt === null ? "required" : "must be non-empty text" };
    const categories = flaggedCategories(record.category);
    if (!Array.isArray(categories)) return categories;
    const metadata: Record<string, unknown> = { harm_categories: categories };
    if (record.response !== undefined && record.response !== null) {
      if (typeof record.response !== "string") return { field: "response", message: "must be text" };
      metadata.dataset_response = record.response;
    }
    if (record.is_safe !== undefined && record.is_safe !== null && record.is_safe !== "") {
      const safe = flag(record.is_safe);
      if (safe === undefined) return { field: "is_safe", message: "must be true or false" };
      metadata.dataset_is_safe = safe;
    }
    const row: Record<string, unknown> = { ...record, prompt, category: categories[0] ?? "none", metadata };
    // The flags object is not a row field; the rest of the record stays for id_field and group_by.
    delete row.response;
    if (categories.length > 1) row.subcategory = categories.slice(1).join(" + ");
    return [row];
  },
};
