import type { AsyncBuffer, FileMetaData } from "hyparquet";
import { CodedColumn, readColumns } from "../results/columns.js";

/** A filter bar lists at most this many values of one dimension; beyond it the filter is a typed value. */
export const MAX_LISTED = 200;

/** The values a filter can take: the listed ones, and whether more exist than are listed. */
export interface FacetValues {
  values: string[];
  more: boolean;
}

/**
 * The grouping columns the item table does not sort on, read only once a filter or a page needs them:
 * the subcategory and every tag (`tags.NAME`: the run's `group_by` columns, XSTest's `label`).
 */
export class FacetColumns {
  private constructor(
    readonly subcategory: CodedColumn,
    readonly tags: Map<string, CodedColumn>,
  ) {}

  static async read(buffer: AsyncBuffer, metadata: FileMetaData): Promise<FacetColumns> {
    const names = metadata.schema.slice(1).map((element) => element.name);
    // Only the flat tag columns: a tag is a string, so one leaf per tag name.
    const tagColumns = names.filter((name) => name.startsWith("tags.") && name.length > 5);
    const size = Number(metadata.num_rows);
    const wanted = [...(names.includes("subcategory") ? ["subcategory"] : []), ...tagColumns];
    // A column whose statistics say it holds one value throughout (most runs' empty subcategory) is not read.
    const constant = new Map(wanted.flatMap((name) => (constantValue(metadata, name) !== undefined ? [[name, constantValue(metadata, name)!]] : [])));
    const read = wanted.filter((name) => !constant.has(name));
    const { columns } = read.length
      ? await readColumns(buffer, metadata, Object.fromEntries(read.map((name) => [name, "coded" as const])))
      : { columns: {} as Awaited<ReturnType<typeof readColumns>>["columns"] };
    for (const [name, value] of constant) {
      const column = new CodedColumn(size);
      if (value !== null && size > 0) {
        column.set(0, value);
        column.codes.fill(column.codes[0]!);
      }
      columns[name] = column;
    }
    const tags = new Map(tagColumns.map((name) => [name.slice(5), columns[name] as CodedColumn]));
    return new FacetColumns((columns.subcategory as CodedColumn | undefined) ?? new CodedColumn(size), tags);
  }

  /** A row's tags, for per-tag directions (null: none). */
  tagsOf(row: number): Record<string, string> | null {
    let out: Record<string, string> | null = null;
    for (const [name, column] of this.tags) {
      const value = column.get(row);
      if (value !== null) (out ??= {})[name] = value;
    }
    return out;
  }

  /** The subcategories and each tag's values, sorted, the empty string left out. */
  values(): { subcategories: FacetValues; tags: Record<string, FacetValues> } {
    return {
      subcategories: listed(this.subcategory),
      tags: Object.fromEntries([...this.tags].map(([name, column]) => [name, listed(column)])),
    };
  }
}

export function listed(column: CodedColumn): FacetValues {
  const values = column.values.filter((value) => value !== "").sort(naturalCompare);
  return { values: values.slice(0, MAX_LISTED), more: values.length > MAX_LISTED };
}

const collator = new Intl.Collator("en", { numeric: true });

/** Numbers inside names in numeric order (item-2 before item-10). For short lists: slow on hundreds of thousands. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The one value a column holds in every row, by its row groups' statistics (null: only nulls); undefined when unknown or several. */
function constantValue(metadata: FileMetaData, name: string): string | null | undefined {
  let value: string | null | undefined;
  for (const group of metadata.row_groups) {
    const chunk = group.columns.find((column) => column.meta_data?.path_in_schema.join(".") === name)?.meta_data;
    const statistics = chunk?.statistics;
    if (!chunk || !statistics) return undefined;
    const nulls = Number(statistics.null_count ?? -1);
    let groupValue: string | null;
    if (nulls === Number(chunk.num_values)) groupValue = null;
    else if (nulls === 0 && typeof statistics.min_value === "string" && statistics.min_value === statistics.max_value) groupValue = statistics.min_value;
    else return undefined;
    if (value !== undefined && value !== groupValue) return undefined;
    value = groupValue;
  }
  return value;
}
