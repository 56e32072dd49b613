// Links that download the item table as it is filtered: every matching row (not just the page), from the
// server's export endpoint, which reads the same query parameters as the table.

import { h } from "../shared/dom.js";

/** "export CSV" and "export JSONL" for a run's items under the table's current filters (the page offset dropped). */
export function exportLinks(runId: string, query: URLSearchParams): HTMLElement {
  const filters = new URLSearchParams(query);
  filters.delete("offset");
  const link = (format: "csv" | "jsonl", text: string) => {
    // Built here rather than with h(), whose links stay inside the app: this one is the API's own path.
    const anchor = document.createElement("a");
    anchor.href = `/api/runs/${encodeURIComponent(runId)}/export/${format}${filters.size ? `?${filters}` : ""}`;
    anchor.download = `${runId}-items.${format}`;
    anchor.className = "export-link";
    anchor.dataset.format = format;
    anchor.textContent = text;
    return anchor;
  };
  return h("span", { class: "export" }, "export all matching rows: ", link("csv", "CSV"), " · ", link("jsonl", "JSONL"));
}
