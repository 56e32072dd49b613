import { renderComparison } from "../../shared/comparison-section.js";
import { renderRun, type ReportData } from "../../shared/dashboard.js";
import { append, clear, h } from "../../shared/dom.js";
import { api, nav, show } from "../page-kit.js";

export async function comparePage(a: string, b: string): Promise<void> {
  clear(nav);
  append(nav, h("a", { href: "#/" }, "runs"));
  show(h("p", { class: "note card" }, "Comparing…"));
  const data = await api<ReportData>(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  show(renderComparison(data), h("div", { class: "side-by-side" }, ...data.runs.map((run) => renderRun(run))));
}
