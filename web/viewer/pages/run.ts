import { boardTable } from "../../shared/board-table.js";
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
  // The run's row of the runs list: its headline numbers, status and counts, read the same way.
  const board = h("section", { class: "card", id: "run-board" }, h("h2", {}, "Headline numbers"), boardTable([listing]));
  const ended = (state: RunListing["state"]) => state === "finished" || state === "failed_items";
  if (!ended(listing.state)) {
    // Live progress while the run writes (or until a stopped run is resumed): the counts every 2 s, and
    // the dashboard again once the run has ended.
    let shown = progress;
    timers.push(
      window.setInterval(async () => {
        const latest = await api<RunListing>(`/api/runs/${id}`).catch(() => undefined);
        if (!latest) return;
        const next = progressBox(latest);
        shown.replaceWith(next);
        shown = next;
        if (latest.state !== listing.state && latest.state !== "running") void route();
      }, 2000),
    );
  }
  const data = await api<ReportData>(`/api/runs/${id}/report`);
  const current = document.getElementById("progress") ?? progress;
  clear(app);
  append(app, current, board, renderRun(data.runs[0]!));
}
