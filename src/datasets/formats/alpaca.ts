import type { RecordFormat } from "./types.js";

// Alpaca-style instructions (Taori et al., 2023: alpaca_data.json, {instruction, input, output}) and
// AlpacaEval's evaluation set (Li et al., 2023: alpaca_eval.json, {instruction, output, generator, dataset}).
// The model under test is sent the instruction, followed by its input when it has one, as one user turn.
// The record's `output` is a stored answer to compare with (text-davinci-003's in Alpaca, the reference
// model's in AlpacaEval): kept as `metadata.baseline_output` for the win-rate judge, never sent to the model.

/** The text an optional field holds: undefined when absent or null, a problem when it is not text. */
function optionalText(record: Record<string, unknown>, field: string): string | undefined | { field: string; message: string } {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : { field, message: "must be text" };
}

export const alpacaFormat: RecordFormat = {
  name: "alpaca",
  description: "Alpaca-style instructions (instruction, input, output) or AlpacaEval's set (instruction, output, generator, dataset); output is the stored baseline answer",
  rows(record) {
    const instruction = record.instruction;
    if (typeof instruction !== "string" || instruction.trim() === "") {
      return { field: "instruction", message: instruction === undefined || instruction === null || instruction === "" ? "required" : "must be non-empty text" };
    }
    const fields: Record<string, string | undefined> = {};
    for (const field of ["input", "output", "generator", "dataset"]) {
      const text = optionalText(record, field);
      if (typeof text === "object") return text;
      fields[field] = text;
    }
    // Alpaca's own prompt puts the input after the instruction under its own heading; AlpacaEval's set has
    // no input. Here the two are joined by a blank line, with no template around them (the chat template is the model's).
    const input = fields.input?.trim() ? fields.input : undefined;
    const prompt = input === undefined ? instruction : `${instruction}\n\n${input}`;
    const metadata: Record<string, unknown> = { instruction };
    if (fields.output !== undefined) metadata.baseline_output = fields.output;
    if (fields.generator !== undefined) metadata.baseline_generator = fields.generator;
    // The other columns stay, so id_field and group_by (AlpacaEval's `dataset`) can name them.
    const row: Record<string, unknown> = { ...record, prompt, metadata };
    if (fields.dataset !== undefined && record.category === undefined) row.category = fields.dataset;
    return [row];
  },
};
