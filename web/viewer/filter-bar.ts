// The filter bar the item table and the grid share: one control per grouping dimension (model, persona,
// category, subcategory, epoch, each tag), the primary outcome, and per scorer its label or value range,
// all built from the facets the server sends and the scorers' declarations. Every filter lives in the URL's
// hash query, so reloading or sharing the URL restores the view.
import "./filter-bar.css";
import { h } from "../shared/dom.js";
import { directionText } from "../shared/declared-metrics.js";
import type { FilterFacets } from "../../src/viewer/item-index.js";
import type { FacetValues } from "../../src/viewer/facet-columns.js";
import { isFilterParam, SCORE_PREFIXES, TAG_PREFIX } from "../../src/viewer/item-filters.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";

export interface FilterBarData {
  facets: { models: string[]; personas: string[]; categories: string[] };
  filters: FilterFacets;
  scorers: ScorerDeclaration[];
  primary: { scorer: string; metric: string } | null;
}

/** The filters of a page's URL query, to send to the API and to keep. */
export function filterParams(params: URLSearchParams): URLSearchParams {
  return new URLSearchParams([...params].filter(([name, value]) => value !== "" && isFilterParam(name)));
}

/**
 * The bar's controls. `go` receives the changed parameters (an empty value removes one); the page puts
 * them in its URL, which re-renders it.
 */
export function filterBar(data: FilterBarData, params: URLSearchParams, go: (changes: Record<string, string>) => void, options: { severity?: boolean } = {}): HTMLElement {
  const facetValues = (values: string[]): FacetValues => ({ values, more: false });
  const primaryMetric = data.primary ? data.scorers.find((scorer) => scorer.name === data.primary!.scorer)?.metrics.find((metric) => metric.name === data.primary!.metric) : undefined;
  const controls: Array<HTMLElement | null> = [
    choice("model", "model", facetValues(data.facets.models), params, go),
    choice("persona", "persona", facetValues(data.facets.personas), params, go),
    choice("category", "category", facetValues(data.facets.categories), params, go),
    data.filters.subcategories.values.length || data.filters.subcategories.more ? choice("subcategory", "subcategory", data.filters.subcategories, params, go) : null,
    data.filters.epochs.length > 1 ? choice("epoch", "epoch", facetValues(data.filters.epochs.map(String)), params, go) : null,
    ...Object.entries(data.filters.tags).map(([tag, values]) => choice(`${TAG_PREFIX}${tag}`, `tag ${tag}`, values, params, go)),
    select(
      "outcome",
      primaryMetric ? `outcome by ${primaryMetric.label}` : "outcome",
      [
        ["bad", `bad (${primaryMetric ? directionText(primaryMetric.bad) : "no direction"})`],
        ["good", "ok"],
        ["neutral", "no direction"],
        ["none", "not scored"],
      ],
      params,
      go,
    ),
    select(
      "status",
      "status",
      [
        ["ok", "ok"],
        ["error", "error"],
      ],
      params,
      go,
    ),
    options.severity ? input("smin", "severity ≥", "number", params, go, { min: "0", max: "1", step: "0.05" }) : null,
    options.severity ? input("smax", "≤", "number", params, go, { min: "0", max: "1", step: "0.05" }) : null,
    ...data.scorers.map((scorer) => scorerFilter(scorer, data.filters.scores[scorer.name], params, go)),
    input("text", "search", "search", params, go, { placeholder: "prompt or response text" }),
    [...filterParams(params)].length
      ? h("button", { type: "button", class: "clear-filters", onclick: () => go(Object.fromEntries([...filterParams(params)].map(([name]) => [name, ""]))) }, "clear filters")
      : null,
  ];
  return h("div", { class: "toolbar filters" }, ...controls);
}

/** A scorer's filter: its label where it has labels, its value range where its values vary. */
function scorerFilter(scorer: ScorerDeclaration, facet: FilterFacets["scores"][string] | undefined, params: URLSearchParams, go: (changes: Record<string, string>) => void): HTMLElement | null {
  if (!facet) return null;
  const metric = scorer.metrics[0];
  const parts: HTMLElement[] = [];
  if (facet.labels.values.length || facet.labels.more) parts.push(choice(`${SCORE_PREFIXES.label}${scorer.name}`, "label", facet.labels, params, go));
  if (facet.min !== null && facet.max !== null && facet.min < facet.max) {
    const bounds = metric.kind.type === "rate" ? { min: "0", max: "1", step: "1" } : { min: String(facet.min), max: String(facet.max), step: "any" };
    parts.push(input(`${SCORE_PREFIXES.min}${scorer.name}`, `${metric.label} ≥`, "number", params, go, bounds));
    parts.push(input(`${SCORE_PREFIXES.max}${scorer.name}`, "≤", "number", params, go, bounds));
  }
  if (parts.length === 0) return null;
  return h("fieldset", { class: "scorer-filter", "data-scorer": scorer.name }, h("legend", {}, scorer.name), ...parts);
}

/** A list of values, or a typed value where there are too many to list. */
function choice(name: string, label: string, values: FacetValues, params: URLSearchParams, go: (changes: Record<string, string>) => void): HTMLElement {
  if (values.more) return input(name, label, "text", params, go, { placeholder: "exact value" });
  const current = params.get(name);
  const options: Array<[string, string]> = values.values.map((value) => [value, value]);
  // A value in the URL the run does not have stays shown (it matches nothing), so the view says what it filters.
  if (current && !values.values.includes(current)) options.push([current, current]);
  return select(name, label, options, params, go);
}

/** A labelled select of one URL parameter ("any" clears it); a change goes to `go`. */
export function select(name: string, label: string, options: Array<[string, string]>, params: URLSearchParams, go: (changes: Record<string, string>) => void): HTMLElement {
  return h(
    "label",
    {},
    `${label} `,
    h(
      "select",
      { name, onchange: (event: Event) => go({ [name]: (event.target as HTMLSelectElement).value }) },
      h("option", { value: "" }, "any"),
      ...options.map(([value, text]) => h("option", { value, selected: params.get(name) === value }, text)),
    ),
  );
}

function input(name: string, label: string, type: string, params: URLSearchParams, go: (changes: Record<string, string>) => void, attributes: Record<string, string> = {}): HTMLElement {
  return h("label", {}, `${label} `, h("input", { name, type, value: params.get(name) ?? "", onchange: (event: Event) => go({ [name]: (event.target as HTMLInputElement).value }), ...attributes }));
}
