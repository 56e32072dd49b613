import type { RecordFormat, RecordProblem } from "./types.js";

// TruthfulQA's generation file as its authors publish it (sylinrl/TruthfulQA data/TruthfulQA.csv: Type,
// Category, Question, Best Answer, Correct Answers, Incorrect Answers, Source; answers in one cell each,
// separated by ";"), or the Hugging Face copy's columns (truthful_qa "generation": question, best_answer,
// correct_answers and incorrect_answers as lists…). One row per question, its reference answers prepared
// exactly as lm-evaluation-harness's truthfulqa_gen reads them, for the judge and the overlap scorers.

/** The answers of one cell as the Hugging Face truthful_qa script splits them: strip, split on ";", strip each. */
export function splitAnswerCell(cell: string): string[] {
  return cell
    .trim()
    .split(";")
    .map((answer) => answer.trim());
}

/** lm-evaluation-harness's `_format_answers`: empty answers dropped, a period added where an answer lacks one. */
export function formatAnswers(answers: string[]): string[] {
  return answers.map((answer) => answer.trim()).flatMap((answer) => (answer === "" ? [] : [answer.endsWith(".") ? answer : `${answer}.`]));
}

/** lm-evaluation-harness counts declining to answer as true: "I have no comment." is added to every item's true answers. */
export const NO_COMMENT = "I have no comment.";

type Column = "Question" | "Best Answer" | "Correct Answers" | "Incorrect Answers" | "Category" | "Type" | "Source";

/** The authors' column names, and the Hugging Face copy's for the same fields. */
const HF_NAMES: Record<Column, string> = {
  Question: "question",
  "Best Answer": "best_answer",
  "Correct Answers": "correct_answers",
  "Incorrect Answers": "incorrect_answers",
  Category: "category",
  Type: "type",
  Source: "source",
};

/** A record's answers: a ";"-separated cell (the CSV) or a list of answers (the Hugging Face copy), split. */
function answers(value: unknown, field: string): string[] | RecordProblem {
  if (typeof value === "string") return splitAnswerCell(value);
  if (Array.isArray(value) && value.every((answer) => typeof answer === "string")) return value.map((answer: string) => answer.trim());
  return { field, message: value === undefined || value === null ? "required: the reference answers" : "must be text (answers separated by ';') or a list of texts" };
}

const optionalText = (value: unknown) => (typeof value === "string" ? value.trim() : undefined);

export const truthfulqaFormat: RecordFormat = {
  name: "truthfulqa",
  description: "TruthfulQA.csv (Question, Best Answer, Correct Answers, Incorrect Answers; answers separated by ';') or the Hugging Face truthful_qa generation columns",
  rows(record) {
    const names = "Question" in record || !("question" in record) ? null : HF_NAMES;
    const field = (column: Column) => (names ? names[column] : column);
    const question = record[field("Question")];
    if (typeof question !== "string" || question.trim() === "")
      return { field: field("Question"), message: question === undefined || question === null ? "required: the question" : "must be non-empty text" };
    const correct = answers(record[field("Correct Answers")], field("Correct Answers"));
    if (!Array.isArray(correct)) return correct;
    const incorrect = answers(record[field("Incorrect Answers")], field("Incorrect Answers"));
    if (!Array.isArray(incorrect)) return incorrect;
    const correctAnswers = formatAnswers(correct);
    const incorrectAnswers = formatAnswers(incorrect);
    // The Hugging Face script leaves out rows without references; here such a row is named, never dropped unseen.
    if (correctAnswers.length === 0) return { field: field("Correct Answers"), message: "no answers: the item needs at least one true reference answer" };
    if (incorrectAnswers.length === 0) return { field: field("Incorrect Answers"), message: "no answers: the item needs at least one false reference answer" };
    if (!correctAnswers.includes(NO_COMMENT)) correctAnswers.push(NO_COMMENT);
    const row: Record<string, unknown> = {
      prompt: question.trim(),
      // The question again: a row's stored messages hold the whole context sent (a few-shot preamble), and a
      // rejudge rebuilds the item from them; the judge must see the bare question.
      metadata: { question: question.trim(), best_answer: optionalText(record[field("Best Answer")]) ?? "", correct_answers: correctAnswers, incorrect_answers: incorrectAnswers },
    };
    const category = optionalText(record[field("Category")]);
    if (category) row.category = category;
    // The question's type (Adversarial / Non-Adversarial) and source stay columns, for group_by.
    for (const column of ["Type", "Source"] as const) {
      const value = optionalText(record[field(column)]);
      if (value !== undefined) row[column.toLowerCase()] = value;
    }
    if (record.id !== undefined) row.id = record.id;
    return [row];
  },
};
