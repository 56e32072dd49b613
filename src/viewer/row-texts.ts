import { parquetReadObjects, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { reclaimMemory } from "../results/reclaim-memory.js";

export interface RowText {
  prompt: string;
  response: string;
}

function lastUserMessage(messages: string | null): string {
  if (!messages) return "";
  try {
    const parsed = JSON.parse(messages) as Array<{ role: string; content: string }>;
    return parsed.filter((message) => message.role === "user").at(-1)?.content ?? "";
  } catch {
    return "";
  }
}

// Characters of lowercased text kept for searching (one byte each for Latin-1 text): enough for the texts of
// a 400,000-row run of short answers, and a bound on memory for runs of long ones.
const HAYSTACK_BUDGET = 64_000_000;

/**
 * One row group's prompts and responses, lowercased, for searching. Each distinct text is kept once (each
 * lowercased on its own: lowercasing depends on the letters around, a final sigma) and joined, with where
 * each starts, and every row points at its text: one indexOf runs over the group, and the prompts repeated
 * across models, personas and epochs, and the stock refusals, are held once.
 */
class Haystack {
  private readonly parts: Array<{ text: string; starts: Int32Array; codes: Int32Array }>;
  readonly chars: number;
  constructor(texts: RowText[]) {
    this.parts = [texts.map((row) => row.prompt), texts.map((row) => row.response)].map((values) => {
      const codeOf = new Map<string, number>();
      const distinct: string[] = [];
      const codes = new Int32Array(values.length);
      values.forEach((value, row) => {
        let code = codeOf.get(value);
        if (code === undefined) {
          codeOf.set(value, (code = distinct.length));
          distinct.push(value.toLowerCase());
        }
        codes[row] = code;
      });
      const starts = new Int32Array(distinct.length + 1);
      distinct.forEach((value, index) => (starts[index + 1] = starts[index]! + value.length));
      return { text: distinct.join(""), starts, codes };
    });
    this.chars = this.parts.reduce((sum, part) => sum + part.text.length + part.codes.length, 0);
  }
  /** Adds to `rows` (numbered from `first`) those whose prompt or response holds `needle` (lowercased). */
  search(needle: string, first: number, rows: Set<number>): void {
    for (const { text, starts, codes } of this.parts) {
      const matched = new Uint8Array(starts.length - 1);
      if (needle === "") matched.fill(1);
      for (let at = needle === "" ? -1 : text.indexOf(needle); at !== -1; ) {
        const index = rowAt(starts, at);
        const end = starts[index + 1]!;
        // A match across two texts is no match; one inside a text settles the text.
        if (at + needle.length <= end) {
          matched[index] = 1;
          at = text.indexOf(needle, end);
        } else at = text.indexOf(needle, at + 1);
      }
      for (let row = 0; row < codes.length; row++) if (matched[codes[row]!]) rows.add(first + row);
    }
  }
}

/** The text that holds position `at`: the last start at or before it. */
function rowAt(starts: Int32Array, at: number): number {
  let low = 0;
  let high = starts.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= at) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The prompts and responses of a results.parquet's rows, read from the file a row group at a time. */
export class RowTexts {
  constructor(
    private readonly buffer: AsyncBuffer,
    private readonly metadata: FileMetaData,
  ) {}

  /** The prompts and responses of some rows, reading each row group they fall in once. */
  async texts(indices: number[]): Promise<Map<number, RowText>> {
    const out = new Map<number, RowText>();
    for (const group of this.groups) {
      const members = indices.filter((index) => index >= group.start && index < group.end);
      if (members.length === 0) continue;
      const texts = await this.groupTexts(group);
      for (const index of members) out.set(index, texts[index - group.start]!);
    }
    return out;
  }

  private lastSearch: { text: string; rows: Set<number> } | undefined;
  /** Row groups' texts, lowercased, kept after a first search so the next ones need not read the file. */
  private readonly haystacks = new Map<number, Haystack>();
  private haystackChars = 0;

  /** Rows whose prompt or response contains the text (case-insensitive), one row group at a time. */
  async searchText(text: string): Promise<Set<number>> {
    const needle = text.toLowerCase();
    if (this.lastSearch?.text === needle) return this.lastSearch.rows;
    const rows = new Set<number>();
    let read = false;
    for (const [number, group] of this.groups.entries()) {
      let haystack = this.haystacks.get(number);
      if (!haystack) {
        read = true;
        haystack = new Haystack(await this.groupTexts(group));
        // Kept while they fit the budget; beyond it (a run of long responses) later groups are read again.
        if (this.haystackChars + haystack.chars <= HAYSTACK_BUDGET) {
          this.haystacks.set(number, haystack);
          this.haystackChars += haystack.chars;
        }
      }
      haystack.search(needle, group.start, rows);
    }
    // Reading the file's texts left hundreds of megabytes of decoded pages and parsed messages behind:
    // collected now, once, rather than whenever V8 gets to it, so the viewer's memory stays near what it keeps.
    if (read) reclaimMemory();
    this.lastSearch = { text: needle, rows };
    return rows;
  }

  /** The file's row groups as row ranges. */
  private get groups(): Array<{ start: number; end: number }> {
    if (!this.groupRanges) {
      let start = 0;
      this.groupRanges = this.metadata.row_groups.map((group) => ({ start, end: (start += Number(group.num_rows)) }));
    }
    return this.groupRanges;
  }
  private groupRanges: Array<{ start: number; end: number }> | undefined;

  /** Each row's last user message and response, for one row group. */
  private async groupTexts(group: { start: number; end: number }): Promise<RowText[]> {
    const rows = (await parquetReadObjects({ file: this.buffer, metadata: this.metadata, columns: ["messages", "raw_candidate"], rowStart: group.start, rowEnd: group.end, compressors })) as Array<{
      messages: string | null;
      raw_candidate: string | null;
    }>;
    return rows.map((row) => ({ prompt: lastUserMessage(row.messages), response: row.raw_candidate ?? "" }));
  }
}
