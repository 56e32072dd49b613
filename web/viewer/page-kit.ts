// What every page of the viewer shares: the JSON API, the page area and the run tabs.
import { STATE_LABELS, STATE_NOTES } from "../shared/board-model.js";
import { append, clear, h } from "../shared/dom.js";
import { number } from "../shared/format.js";
import type { RunListing } from "../../src/viewer/run-index.js";

export const app = document.getElementById("app")!;
export const nav = document.getElementById("nav")!;

/** Intervals a page starts (live progress); cleared when the page changes. */
export const timers: number[] = [];

export async function api<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

export function show(...children: Array<Node | null>): void {
  clear(app);
  append(app, ...children);
}

export function failure(error: unknown): HTMLElement {
  return h("section", { class: "card" }, h("p", { class: "error" }, (error as Error).message));
}

export function runTabs(runId: string, active: "dashboard" | "items" | "grid"): void {
  clear(nav);
  const id = encodeURIComponent(runId);
  append(
    nav,
    h("a", { href: "#/" }, "runs"),
    h("a", { href: `#/run/${id}`, class: active === "dashboard" ? "active" : undefined }, `${runId}: dashboard`),
    h("a", { href: `#/run/${id}/items`, class: active === "items" ? "active" : undefined }, "items"),
    h("a", { href: `#/run/${id}/grid`, class: active === "grid" ? "active" : undefined }, "side by side"),
  );
}

export function progressBox(listing: RunListing): HTMLElement {
  const done = listing.progress.ok + listing.progress.error;
  const share = listing.progress.total ? Math.min(1, done / listing.progress.total) : 0;
  const bar = h("div");
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  return h(
    "section",
    { class: "card", id: "progress", "data-state": listing.state },
    h("h2", { title: STATE_NOTES[listing.state] }, `Progress: ${STATE_LABELS[listing.state]}`),
    h("div", { class: "progress" }, bar),
    h(
      "p",
      { class: "progress-text" },
      `${number(done)} of ${number(listing.progress.total)} keys done (${(share * 100).toFixed(1)}%): ${number(listing.progress.ok)} ok, ${number(listing.progress.error)} failed. partials.jsonl last written ${listing.progress.partials_modified ?? "never"}.`,
    ),
  );
}
