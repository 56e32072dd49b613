// The item filters beyond model, persona, category, status, outcome and severity: subcategory, epoch, each
// tag and each scorer's value range or label. One spelling in the URL for the server and the browser (this
// module is pure, so the front end imports it): `subcategory=…`, `epoch=2`, `tag:NAME=…`, `min:SCORER=0.5`,
// `max:SCORER=1`, `label:SCORER=…`.

/** One scorer's filter: its primary value within [min, max], or its label. */
export interface ScoreFilter {
  min?: number;
  max?: number;
  label?: string;
}

export interface FacetFilters {
  subcategory?: string;
  epoch?: number;
  /** Tag name → the value a row's tag must have. */
  tags?: Record<string, string>;
  /** Scorer name → its filter. */
  scores?: Record<string, ScoreFilter>;
}

export const TAG_PREFIX = "tag:";
export const SCORE_PREFIXES = { min: "min:", max: "max:", label: "label:" } as const;

/** Whether a URL parameter is one of the item filters (so a page carries it to the API and keeps it in the URL). */
export function isFilterParam(name: string): boolean {
  return (
    ["model", "persona", "category", "subcategory", "epoch", "status", "outcome", "smin", "smax", "text"].includes(name) ||
    [TAG_PREFIX, ...Object.values(SCORE_PREFIXES)].some((prefix) => name.startsWith(prefix) && name.length > prefix.length)
  );
}

/** The facet filters a URL's parameters set; empty values and numbers that do not parse are left out. */
export function facetFiltersOf(params: URLSearchParams): FacetFilters {
  const out: FacetFilters = {};
  const number = (text: string) => (text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : undefined);
  for (const [name, value] of params) {
    if (value === "") continue;
    if (name === "subcategory") out.subcategory = value;
    else if (name === "epoch" && number(value) !== undefined) out.epoch = number(value)!;
    else if (name.startsWith(TAG_PREFIX) && name.length > TAG_PREFIX.length) (out.tags ??= {})[name.slice(TAG_PREFIX.length)] = value;
    else {
      for (const [field, prefix] of Object.entries(SCORE_PREFIXES) as Array<[keyof ScoreFilter, string]>) {
        if (!name.startsWith(prefix) || name.length === prefix.length) continue;
        const scorer = name.slice(prefix.length);
        if (field === "label") ((out.scores ??= {})[scorer] ??= {}).label = value;
        else if (number(value) !== undefined) ((out.scores ??= {})[scorer] ??= {})[field] = number(value)!;
      }
    }
  }
  return out;
}
