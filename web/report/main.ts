import "../shared/styles.css";
import { renderRun, type ReportData, type RunReport } from "../shared/dashboard.js";
import { renderComparison } from "../shared/comparison-section.js";
import { itemDetails } from "../shared/item-details.js";
import { append, clear, h } from "../shared/dom.js";

// The report's data is inline JSON (never HTML); everything is built as DOM nodes from it.
const data = JSON.parse(document.getElementById("report-data")!.textContent!) as ReportData;
const app = document.getElementById("app")!;

function itemsSection(run: RunReport): HTMLElement {
  const items = run.items;
  const total = run.items_total;
  const list = h("div", { class: "items all" });
  const count = h("span", { class: "count" });
  const search = h("input", { type: "search", placeholder: "search prompts and responses", class: "item-search" }) as HTMLInputElement;
  const show = () => {
    const query = search.value.toLowerCase();
    const shown = query ? items.filter((item) => `${item.prompt}\n${item.response ?? ""}\n${item.model}\n${item.persona}\n${item.category}`.toLowerCase().includes(query)) : items;
    clear(list);
    append(list, ...shown.slice(0, 500).map((item) => itemDetails(item, run)));
    count.textContent = `${shown.length} of ${items.length} listed${total > items.length ? ` (a sample of the run's ${total})` : ""}`;
  };
  search.addEventListener("input", show);
  show();
  return h("section", { class: "card", id: "items" }, h("h2", {}, "Items"), h("div", { class: "toolbar" }, search, count), list);
}

const title = data.runs.length === 2 ? `${data.runs[0]!.manifest.run_id} vs ${data.runs[1]!.manifest.run_id}` : data.runs[0]!.manifest.run_id;
append(
  app,
  h("header", { class: "top" }, h("h1", {}, `alignbench report — ${title}`), h("p", { class: "note" }, `Generated ${data.generated_at} by alignbench ${data.tool_version}. Intervals are 95%.`)),
  renderComparison(data),
  data.runs.length === 2 ? h("div", { class: "side-by-side" }, ...data.runs.map((run) => renderRun(run))) : renderRun(data.runs[0]!),
  ...data.runs.map((run) => itemsSection(run)),
);
document.body.dataset.ready = "true";
