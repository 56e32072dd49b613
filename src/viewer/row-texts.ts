import { parquetReadObjects, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";

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
 * One row group's prompts and responses, each lowercased on its own (lowercasing depends on the letters
 * around: a final sigma) and joined, with where each row's text starts: one indexOf runs over the group.
 */
class Haystack {
  private readonly parts: Array<{ text: string; starts: Int32Array }>;
  readonly chars: number;
  constructor(texts: RowText[]) {
    this.parts = [texts.map((row) => row.prompt), texts.map((row) => row.response)].map((values) => {
      const lower = values.map((value) => value.toLowerCase());
      const starts = new Int32Array(lower.length + 1);
      lower.forEach((value, index) => (starts[index + 1] = starts[index]! + value.length));
      return { text: lower.join(""), starts };
    });
    this.chars = this.parts.reduce((sum, part) => sum + part.text.length, 0);
  }
  /** Adds to `rows` (numbered from `first`) those whose prompt or response holds `needle` (lowercased). */
  search(needle: string, first: number, rows: Set<number>): void {
    if (needle === "") {
      for (let row = 0; row < this.parts[0]!.starts.length - 1; row++) rows.add(first + row);
      return;
    }
    for (const { text, starts } of this.parts) {
      for (let at = text.indexOf(needle); at !== -1; ) {
        const row = rowAt(starts, at);
        const end = starts[row + 1]!;
        // A match across two rows' texts is no match; one inside a row settles the row.
        if (at + needle.length <= end) {
          rows.add(first + row);
          at = text.indexOf(needle, end);
        } else at = text.indexOf(needle, at + 1);
      }
    }
  }
}

/** The row whose text holds position `at`: the last start at or before it. */
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
    for (const [number, group] of this.groups.entries()) {
      let haystack = this.haystacks.get(number);
      if (!haystack) {
        haystack = new Haystack(await this.groupTexts(group));
        // Kept while they fit the budget; beyond it (a run of long responses) later groups are read again.
        if (this.haystackChars + haystack.chars <= HAYSTACK_BUDGET) {
          this.haystacks.set(number, haystack);
          this.haystackChars += haystack.chars;
        }
      }
      haystack.search(needle, group.start, rows);
    }
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
