import type { FacetColumns } from "./facet-columns.js";
import type { ScorerColumns } from "../results/item-columns.js";
import type { FacetFilters } from "./item-filters.js";

/** Whether any facet filter is set (only then are the facet columns read). */
export function hasFacetFilters(filters: FacetFilters): boolean {
  return filters.subcategory !== undefined || filters.epoch !== undefined || Object.keys(filters.tags ?? {}).length > 0 || Object.keys(filters.scores ?? {}).length > 0;
}

/**
 * The facet filters as one test per row. Values compare as dictionary codes, so an unknown value (or an
 * unknown tag or scorer) matches nothing rather than being ignored: a shared URL never shows more than it says.
 */
export function facetPredicate(filters: FacetFilters, columns: { facets: FacetColumns; epochs: Float64Array; scorers: Map<string, ScorerColumns> }): (row: number) => boolean {
  const tests: Array<(row: number) => boolean> = [];
  const never = () => false;
  if (filters.subcategory !== undefined) {
    const { codes } = columns.facets.subcategory;
    const code = columns.facets.subcategory.codeOf(filters.subcategory);
    tests.push((row) => codes[row] === code);
  }
  if (filters.epoch !== undefined) {
    const { epochs } = columns;
    const epoch = filters.epoch;
    tests.push((row) => epochs[row] === epoch);
  }
  for (const [name, value] of Object.entries(filters.tags ?? {})) {
    const column = columns.facets.tags.get(name);
    if (!column) return never;
    const { codes } = column;
    const code = column.codeOf(value);
    tests.push((row) => codes[row] === code);
  }
  for (const [name, filter] of Object.entries(filters.scores ?? {})) {
    const scorer = columns.scorers.get(name);
    if (!scorer) return never;
    const { value } = scorer;
    const { min, max, label } = filter;
    // A row without a value is outside any range.
    if (min !== undefined) tests.push((row) => value[row]! >= min);
    if (max !== undefined) tests.push((row) => value[row]! <= max);
    if (label !== undefined) {
      const { codes } = scorer.label;
      const code = scorer.label.codeOf(label);
      tests.push((row) => codes[row] === code);
    }
  }
  return (row) => {
    for (const test of tests) if (!test(row)) return false;
    return true;
  };
}
