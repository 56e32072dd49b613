import { createHash } from "node:crypto";
import type { RecordFormat } from "./types.js";

// Text sets for fine-tuning drift (in-domain and out-of-domain texts): one text per record, scored token by
// token under two models, never sent as a chat turn. The text is the record's `text` column (Hugging Face
// text sets such as wikitext and C4 name it so), or another column a caller names; a .txt file's line
// arrives as `prompt` (readers.ts) and is taken as it is. A record without an id gets one from its text's
// hash, so ids stay the same when the file is reordered or cut (a resumed run finds its rows); a suite that
// prefers line numbers sets `id_field: "#line"`.

/** The id a text gets when its record has none: "t-" and the first 16 hex digits of its sha256. */
export function textId(text: string): string {
  return `t-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
}

/** A drift text format reading its text from `field` (default `text`). */
export function driftTextFormatFor(field = "text", name = "drift_text"): RecordFormat {
  return {
    name,
    description: `one text per record for fine-tuning drift (column "${field}"; a .txt file's lines), scored under two models`,
    rows(record) {
      // A .txt line comes as { id, prompt }: the reader skips blank lines and numbers the rest.
      const value = record[field] ?? (field === "text" ? record.prompt : undefined);
      if (value === undefined || value === null) return { field, message: `required: the text to score (no "${field}" column)` };
      if (typeof value !== "string") return { field, message: "must be text" };
      if (value.trim() === "") return { field, message: "empty text: a text set's texts must hold at least one non-space character (remove empty records)" };
      // The text travels once, as the prompt; the other columns stay for id_field and group_by.
      const { id, metadata, [field]: _text, ...rest } = record;
      const row: Record<string, unknown> = { ...rest, prompt: value, metadata: { ...(typeof metadata === "object" && metadata !== null ? metadata : {}), chars: value.length } };
      row.id = id === undefined || id === null || id === "" ? textId(value) : id;
      if (row.category === undefined) row.category = "text";
      return [row];
    },
  };
}

export const driftTextFormat: RecordFormat = driftTextFormatFor();
