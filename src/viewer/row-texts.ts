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

  /** Rows whose prompt or response contains the text (case-insensitive), one row group at a time. */
  async searchText(text: string): Promise<Set<number>> {
    const needle = text.toLowerCase();
    if (this.lastSearch?.text === needle) return this.lastSearch.rows;
    const rows = new Set<number>();
    for (const group of this.groups) {
      (await this.groupTexts(group)).forEach((value, offset) => {
        if (value.response.toLowerCase().includes(needle) || value.prompt.toLowerCase().includes(needle)) rows.add(group.start + offset);
      });
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
