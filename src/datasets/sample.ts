import { z } from "zod";
import type { Message } from "../providers/messages.js";

/** One test case, as every later stage sees it, whatever file format it came from. */
export interface Sample {
  id: string;
  category: string;
  subcategory: string;
  /** A system prompt that belongs to this item (e.g. an attack's framing); combined with the run's persona. */
  personaSystemPrompt?: string;
  conversation: Message[];
  expectedSafeBehavior?: string;
  attackNotes?: string;
  /** A judge prompt for this item only, with `{conversation}`, `{last_user_prompt}`, `{candidate_response}` placeholders. */
  judgePrompt?: string;
  /** A JSON Schema the judge's answer must satisfy for this item only. */
  judgeSchema?: Record<string, unknown>;
  /** What scorers may need beyond the conversation, e.g. a HarmBench behaviour and its context. */
  metadata?: Record<string, unknown>;
}

const optionalText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((value) => (value === null || value === undefined || value === "" ? undefined : String(value)));

const message = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

/**
 * A dataset row. Only `id` and one of `conversation` / `prompt` are required; other columns are ignored,
 * so public files with extra columns load as they are.
 */
export const datasetRowSchema = z
  .object({
    id: z.union([z.string().min(1, "must not be empty"), z.number()]).transform(String),
    category: optionalText,
    subcategory: optionalText,
    persona_system_prompt: optionalText,
    conversation: z.array(message).min(1, "must hold at least one message").nullish(),
    // RealToxicityPrompts' JSONL nests the text: {"prompt": {"text": …, "toxicity": …}}.
    prompt: z.union([optionalText, z.object({ text: z.string() }).transform((value) => value.text)]),
    expected_safe_behavior: optionalText,
    attack_notes: optionalText,
    judge_prompt: optionalText,
    judge_schema: z.record(z.string(), z.unknown()).nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
  })
  .superRefine((row, context) => {
    if (!row.conversation && row.prompt === undefined) {
      context.addIssue({ code: "custom", path: ["conversation"], message: "required (or give a `prompt` field)" });
      return;
    }
    const turns = row.conversation ?? [];
    const last = turns[turns.length - 1];
    if (last && last.role !== "user") {
      context.addIssue({
        code: "custom",
        path: ["conversation", turns.length - 1, "role"],
        message: `the last message must be from the user, not "${last.role}"`,
      });
    }
  });

export type DatasetRow = z.output<typeof datasetRowSchema>;

export function rowToSample(row: DatasetRow): Sample {
  const conversation: Message[] = row.conversation ?? [{ role: "user", content: row.prompt ?? "" }];
  const sample: Sample = {
    id: row.id,
    category: row.category ?? "uncategorized",
    subcategory: row.subcategory ?? "",
    conversation,
  };
  if (row.persona_system_prompt !== undefined) sample.personaSystemPrompt = row.persona_system_prompt;
  if (row.expected_safe_behavior !== undefined) sample.expectedSafeBehavior = row.expected_safe_behavior;
  if (row.attack_notes !== undefined) sample.attackNotes = row.attack_notes;
  if (row.judge_prompt !== undefined) sample.judgePrompt = row.judge_prompt;
  if (row.judge_schema) sample.judgeSchema = row.judge_schema;
  if (row.metadata) sample.metadata = row.metadata;
  return sample;
}

/** `conversation[1].role` from a zod path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(row)";
}
