// The record-format contract. Most benchmark files are one test case a row, with columns the field mapping
// names (prompt_field, id_field…). Some are not: BOLD is one JSON object of groups of entities of prompts,
// HH-RLHF keeps a whole dialogue in one string, BBQ's target answer is spread over three fields. A record
// format reads one record as the file holds it and gives the rows it stands for, in the fields the row
// schema reads (id, prompt or conversation, category, subcategory, metadata), so such a file runs as
// published, without a conversion step. The field mapping (group_by, id_field…) applies to its rows after.

/** What is wrong with a record, naming the record's own field. */
export interface RecordProblem {
  field?: string;
  message: string;
}

export interface RecordFormat {
  /** Its name in suites and configs (`record_format: NAME`). */
  name: string;
  /** One line for `--help` and errors. */
  description: string;
  /** The rows one record of the file stands for (often one; BOLD: every prompt of every entity), or its problem. */
  rows(record: Record<string, unknown>): Array<Record<string, unknown>> | RecordProblem;
}
