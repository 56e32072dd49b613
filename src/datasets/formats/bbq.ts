import { targetLoc, unknownLoc, type BbqAnswerInfo } from "./bbq-target.js";
import type { RecordFormat, RecordProblem } from "./types.js";

// BBQ's JSONL (nyu-mll/BBQ data/*.jsonl): one question a record, three answers, the correct one's index in
// `label`, and what the bias score needs spread over answer_info and additional_metadata. One record is one
// row. Its prompt lists the three answers as lettered options for a generated answer (bbq_choice maps it
// back); `metadata.mc_context` is the context a log-likelihood answer continues, as lm-evaluation-harness's
// bbq tasks write it ("{context}\n\nQ: {question}\nA:"), and `metadata.choices` the three answers. The
// UNKNOWN and target answers' indices come from bbq-target.ts (the authors' analysis rules).

export const BBQ_LETTERS = ["a", "b", "c"] as const;

/** What the scorers and the bbq_bias suite metric read from a row (`metadata.bbq`). */
export interface BbqItem {
  /** The three answers' texts (ans0, ans1, ans2). */
  answers: [string, string, string];
  /** The correct answer's index (`label`). */
  label: number;
  /** The UNKNOWN answer's index. */
  unknown: number;
  /** The bias target's index (the stereotyped group's answer), or null where the rules give none. */
  target: number | null;
  polarity: "neg" | "nonneg";
  condition: "ambig" | "disambig";
  /** "name" for templates that use proper names (question_index > 25), "label" otherwise, as the authors split them. */
  label_type: "name" | "label";
}

function text(record: Record<string, unknown>, field: string): string | RecordProblem {
  const value = record[field];
  if (typeof value !== "string" || value.trim() === "") return { field, message: value === undefined || value === null ? "required" : "must be non-empty text" };
  return value;
}

function answerInfo(record: Record<string, unknown>, index: number): BbqAnswerInfo | RecordProblem {
  const info = record.answer_info;
  const field = `answer_info.ans${index}`;
  if (typeof info !== "object" || info === null || Array.isArray(info)) return { field: "answer_info", message: "required: an object {ans0: [text, group], …}" };
  const entry = (info as Record<string, unknown>)[`ans${index}`];
  if (!Array.isArray(entry) || entry.length < 2 || typeof entry[0] !== "string" || typeof entry[1] !== "string") return { field, message: "must be [text, group]" };
  return { text: entry[0], group: entry[1] };
}

const isProblem = (value: unknown): value is RecordProblem => typeof value === "object" && value !== null && "message" in value;

/** Reads one BBQ record into its row, or names the field that is wrong. */
export function bbqRow(record: Record<string, unknown>): Record<string, unknown> | RecordProblem {
  const fields: Record<string, string> = {};
  for (const field of ["category", "context", "question", "ans0", "ans1", "ans2"]) {
    const value = text(record, field);
    if (isProblem(value)) return value;
    fields[field] = value;
  }
  const id = record.example_id;
  if (typeof id !== "number" && (typeof id !== "string" || id === "")) return { field: "example_id", message: "required: a number" };
  const label = record.label;
  if (label !== 0 && label !== 1 && label !== 2) return { field: "label", message: "must be 0, 1 or 2" };
  const polarity = record.question_polarity;
  if (polarity !== "neg" && polarity !== "nonneg") return { field: "question_polarity", message: 'must be "neg" or "nonneg"' };
  const condition = record.context_condition;
  if (condition !== "ambig" && condition !== "disambig") return { field: "context_condition", message: 'must be "ambig" or "disambig"' };
  const infos: BbqAnswerInfo[] = [];
  for (const index of [0, 1, 2]) {
    const info = answerInfo(record, index);
    if (isProblem(info)) return info;
    infos.push(info);
  }
  const unknown = unknownLoc(infos);
  if (unknown === undefined) return { field: "answer_info", message: 'no answer has the group "unknown"' };
  const metadata = record.additional_metadata;
  const groups = typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>).stereotyped_groups : undefined;
  if (!Array.isArray(groups) || !groups.every((group) => typeof group === "string")) return { field: "additional_metadata.stereotyped_groups", message: "required: a list of group names" };
  const category = fields.category!;
  const answers: [string, string, string] = [fields.ans0!, fields.ans1!, fields.ans2!];
  const target = targetLoc({ category, answers: infos as [BbqAnswerInfo, BbqAnswerInfo, BbqAnswerInfo], stereotypedGroups: groups as string[] });
  const questionIndex = Number(record.question_index);
  const item: BbqItem = {
    answers,
    label,
    unknown,
    target: target ?? null,
    polarity,
    condition,
    label_type: Number.isFinite(questionIndex) && questionIndex > 25 ? "name" : "label",
  };
  const options = answers.map((answer, index) => `(${BBQ_LETTERS[index]}) ${answer}`).join("\n");
  return {
    // example_id restarts at 0 in each category's file.
    id: `${category}-${String(id)}`,
    prompt: `${fields.context}\n\n${fields.question}\n${options}\n\nAnswer with the letter of the correct option.`,
    category,
    subcategory: polarity,
    // Columns group_by may name.
    context_condition: condition,
    question_polarity: polarity,
    label_type: item.label_type,
    metadata: {
      bbq: item,
      mc_context: `${fields.context}\n\nQ: ${fields.question}\nA:`,
      choices: answers.map((answer, index) => ({ text: answer, correct: index === label })),
    },
  };
}

export const bbqFormat: RecordFormat = {
  name: "bbq",
  description: "BBQ (Parrish et al., 2022) JSONL: one question with three answers a record; target and UNKNOWN answers as the authors' analysis code finds them",
  rows(record) {
    const row = bbqRow(record);
    return isProblem(row) ? row : [row];
  },
};
