import { renderRun, type ReportData } from "../../shared/dashboard.js";
import { append, clear, h } from "../../shared/dom.js";
import type { RunListing } from "../../../src/viewer/run-index.js";
import { api, app, progressBox, runTabs, show, timers } from "../page-kit.js";
import { route } from "../router.js";

export async function runPage(runId: string): Promise<void> {
  runTabs(runId, "dashboard");
  const id = encodeURIComponent(runId);
  const listing = await api<RunListing>(`/api/runs/${id}`);
  const progress = progressBox(listing);
  show(progress, h("p", { class: "note card" }, "Building the dashboard…"));
  if (listing.state !== "finished") {
    // Live progress while the run writes (or until a stopped run is resumed): the counts every 2 s, and
    // the dashboard again once the run has finished.
    let shown = progress;
    timers.push(
      window.setInterval(async () => {
        const latest = await api<RunListing>(`/api/runs/${id}`).catch(() => undefined);
        if (!latest) return;
        const next = progressBox(latest);
        shown.replaceWith(next);
        shown = next;
        if (latest.state === "finished") void route();
      }, 2000),
    );
  }
  const data = await api<ReportData>(`/api/runs/${id}/report`);
  const current = document.getElementById("progress") ?? progress;
  clear(app);
  append(app, current, renderRun(data.runs[0]!));
}
