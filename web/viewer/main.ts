import "../shared/styles.css";
import { renderRun, type ReportData } from "../shared/dashboard.js";
import { renderComparison } from "../shared/comparison-section.js";
import { append, clear, h, table, textBlock } from "../shared/dom.js";
import { number } from "../shared/format.js";
import type { RunListing } from "../../src/viewer/run-index.js";
import type { ItemRowSummary } from "../../src/viewer/item-index.js";
import type { ScorerDeclaration } from "../../src/scorers/types.js";
import { directionText } from "../shared/declared-metrics.js";
import { transcriptBlocks } from "../shared/item-details.js";
import { valueByKind } from "../shared/format.js";

const app = document.getElementById("app")!;
const nav = document.getElementById("nav")!;
let timers: number[] = [];

async function api<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

function show(...children: Array<Node | null>): void {
  clear(app);
  append(app, ...children);
}

function failure(error: unknown): HTMLElement {
  return h("section", { class: "card" }, h("p", { class: "error" }, (error as Error).message));
}

function runTabs(runId: string, active: "dashboard" | "items"): void {
  clear(nav);
  const id = encodeURIComponent(runId);
  append(
    nav,
    h("a", { href: "#/" }, "runs"),
    h("a", { href: `#/run/${id}`, class: active === "dashboard" ? "active" : undefined }, `${runId}: dashboard`),
    h("a", { href: `#/run/${id}/items`, class: active === "items" ? "active" : undefined }, "items"),
  );
}

function progressBox(listing: RunListing): HTMLElement {
  const done = listing.progress.ok + listing.progress.error;
  const share = listing.progress.total ? Math.min(1, done / listing.progress.total) : 0;
  const bar = h("div");
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  return h(
    "section",
    { class: "card", id: "progress", "data-state": listing.state },
    h("h2", {}, `Progress: ${listing.state}`),
    h("div", { class: "progress" }, bar),
    h(
      "p",
      { class: "progress-text" },
      `${number(done)} of ${number(listing.progress.total)} keys done (${(share * 100).toFixed(1)}%): ${number(listing.progress.ok)} ok, ${number(listing.progress.error)} failed. partials.jsonl last written ${listing.progress.partials_modified ?? "never"}.`,
    ),
  );
}

async function runsPage(): Promise<void> {
  clear(nav);
  const runs = await api<RunListing[]>("/api/runs");
  const pick = (name: string) => h("select", { name }, ...runs.map((run) => h("option", { value: run.run_id }, run.run_id)));
  const a = pick("a") as HTMLSelectElement;
  const b = pick("b") as HTMLSelectElement;
  // Newest first: by default compare the newest run (B) against the one before it (A).
  if (runs.length > 1) a.selectedIndex = 1;
  show(
    h(
      "section",
      { class: "card" },
      h("h2", {}, `Runs (${runs.length})`),
      table(
        ["run", "created", "models", "personas", "dataset", "state", "done"],
        runs.map((run) => [
          h("a", { href: `#/run/${encodeURIComponent(run.run_id)}`, class: "run-link" }, run.run_id),
          run.created_at,
          run.models.join(", "),
          run.personas.join(", ") || "none",
          run.dataset,
          run.state,
          `${number(run.progress.ok + run.progress.error)} / ${number(run.progress.total)}`,
        ]),
        { class: "runs-table" },
      ),
    ),
    runs.length > 1
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, "Compare two runs"),
          h(
            "div",
            { class: "toolbar" },
            "A",
            a,
            "B",
            b,
            h("button", { type: "button", id: "compare", onclick: () => (location.hash = `#/compare/${encodeURIComponent(a.value)}/${encodeURIComponent(b.value)}`) }, "compare B against A"),
          ),
        )
      : null,
  );
}

async function runPage(runId: string): Promise<void> {
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

const FILTERS = ["model", "persona", "category", "outcome", "status", "smin", "smax", "text", "sort", "order", "offset"] as const;

async function itemsPage(runId: string, params: URLSearchParams): Promise<void> {
  runTabs(runId, "items");
  const id = encodeURIComponent(runId);
  const listing = await api<RunListing>(`/api/runs/${id}`);
  if (!listing.has_results) return show(progressBox(listing), h("section", { class: "card" }, h("p", {}, "The item table reads results.parquet, written when the run ends.")));
  const query = new URLSearchParams(FILTERS.flatMap((name) => (params.get(name) ? [[name, params.get(name)!]] : [])));
  const result = await api<{
    total: number;
    size: number;
    rows: ItemRowSummary[];
    facets: { models: string[]; personas: string[]; categories: string[] };
    scorers: ScorerDeclaration[];
    primary: { scorer: string; metric: string } | null;
  }>(`/api/runs/${id}/items?${query}`);
  // The table's columns and the outcome filter come from the scorers' declarations.
  const primaryMetric = result.primary ? result.scorers.find((scorer) => scorer.name === result.primary!.scorer)?.metrics.find((metric) => metric.name === result.primary!.metric) : undefined;
  const outcomeLabel = primaryMetric ? `outcome by ${primaryMetric.label}` : "outcome";
  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(query);
    for (const [name, value] of Object.entries(changes)) value ? next.set(name, value) : next.delete(name);
    if (!("offset" in changes)) next.delete("offset");
    location.hash = `#/run/${id}/items?${next}`;
  };
  const select = (name: string, label: string, options: Array<[string, string]>) =>
    h(
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
  const input = (name: string, label: string, type: string, attributes: Record<string, string> = {}) =>
    h("label", {}, `${label} `, h("input", { name, type, value: params.get(name) ?? "", onchange: (event: Event) => go({ [name]: (event.target as HTMLInputElement).value }), ...attributes }));
  const offset = Number(params.get("offset") ?? 0);
  const toolbar = h(
    "div",
    { class: "toolbar filters" },
    select(
      "model",
      "model",
      result.facets.models.map((value) => [value, value]),
    ),
    select(
      "persona",
      "persona",
      result.facets.personas.map((value) => [value, value]),
    ),
    select(
      "category",
      "category",
      result.facets.categories.map((value) => [value, value]),
    ),
    select("outcome", outcomeLabel, [
      ["bad", `bad (${primaryMetric ? directionText(primaryMetric.bad) : "no direction"})`],
      ["good", "ok"],
      ["neutral", "no direction"],
      ["none", "not scored"],
    ]),
    select("status", "status", [
      ["ok", "ok"],
      ["error", "error"],
    ]),
    input("smin", "severity ≥", "number", { min: "0", max: "1", step: "0.05" }),
    input("smax", "≤", "number", { min: "0", max: "1", step: "0.05" }),
    input("text", "search", "search", { placeholder: "prompt or response text" }),
    select("sort", "sort by", [
      ["severity", "severity"],
      ["key", "key"],
      ["model", "model"],
      ["persona", "persona"],
      ["category", "category"],
      ["test_id", "test id"],
    ]),
    select("order", "order", [["desc", "descending"]]),
  );
  const outcomeCell = (outcome: ItemRowSummary["outcome"]) => (outcome === "bad" ? "bad" : outcome === "good" ? "ok" : outcome === "neutral" ? "—" : "not scored");
  const scoreCell = (scorer: ScorerDeclaration, score: { value: number | null; label: string | null } | undefined) =>
    score === undefined || (score.value === null && score.label === null) ? "—" : `${valueByKind(scorer.metrics[0].kind, score.value)}${score.label ? ` (${score.label})` : ""}`;
  const rows = result.rows.map((row) => {
    const tr = h(
      "tr",
      { class: "clickable item-row", "data-index": row.index, "data-outcome": row.outcome ?? "none", onclick: () => (location.hash = `#/run/${id}/item/${row.index}`) },
      ...[
        row.severity === null ? "—" : row.severity.toFixed(2),
        outcomeCell(row.outcome),
        ...result.scorers.map((scorer) => scoreCell(scorer, row.scores[scorer.name])),
        row.model,
        row.persona,
        row.category,
        row.test_id,
        row.prompt,
        row.response,
        row.status,
      ].map((cell) => h("td", {}, cell)),
    );
    return tr;
  });
  show(
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Items"),
      toolbar,
      h("p", { class: "count", id: "item-count" }, `${number(result.total)} of ${number(result.size)} items match; showing ${result.total ? offset + 1 : 0}–${offset + result.rows.length}`),
      h(
        "table",
        { class: "items-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["severity", outcomeLabel, ...result.scorers.map((scorer) => `${scorer.name}: ${scorer.metrics[0].label}`), "model", "persona", "category", "test", "prompt", "response", "status"].map(
              (title) => h("th", {}, title),
            ),
          ),
        ),
        h("tbody", {}, ...rows),
      ),
      h(
        "div",
        { class: "toolbar" },
        h("button", { type: "button", disabled: offset === 0, onclick: () => go({ offset: String(Math.max(0, offset - 50)) }) }, "← previous"),
        h("button", { type: "button", disabled: offset + 50 >= result.total, onclick: () => go({ offset: String(offset + 50) }) }, "next →"),
      ),
    ),
  );
}

async function itemPage(runId: string, index: string): Promise<void> {
  runTabs(runId, "items");
  const id = encodeURIComponent(runId);
  const [row, report] = await Promise.all([api<Record<string, unknown>>(`/api/runs/${id}/items/${encodeURIComponent(index)}`), api<ReportData>(`/api/runs/${id}/report`).catch(() => undefined)]);
  const scorers = report?.runs[0]?.summary.scorers ?? [];
  const primary = report?.runs[0]?.primary ?? null;
  const messages = (row.messages as Array<{ role: string; content: string }> | null) ?? [];
  const transcript = (row.transcript as NonNullable<import("../../src/reports/report-data.js").ReportItem["transcript"]> | null) ?? [];
  const scores =
    (row.scores as Record<
      string,
      { value: number | null; label: string | null; metrics?: Record<string, number | null>; error: string | null; raw: string | null; model?: string; data?: unknown }
    > | null) ?? {};
  const text = (value: unknown) => (value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value));
  const fields: Array<[string, unknown]> = [
    ["key", row.key],
    ["dimensions", row.dimensions],
    ["model", row.model_slug],
    ["persona", row.persona_slug],
    ["category", row.category],
    ["subcategory", row.subcategory],
    ["tags", row.tags],
    ["epoch", row.epoch],
    ["attempt", row.attempt],
    ["status", row.status],
    ["error type", row.error_type],
    [primary ? `outcome by ${primary.label}` : "outcome", row.outcome === "good" ? "ok" : row.outcome],
    ["severity", typeof row.severity === "number" ? row.severity.toFixed(3) : null],
    ["latency (ms)", row.latency_ms],
    ["finish reason", row.finish_reason],
  ];
  const scoreRows = Object.entries(scores).flatMap(([name, score]) => {
    const declaration = scorers.find((entry) => entry.name === name) ?? scorers.find((entry) => name.endsWith(`/${entry.name}`));
    const metricRows = (declaration?.metrics ?? [{ name: "value", label: "value", kind: { type: "unbounded" as const } }]).map((metric, position) => {
      const value = position === 0 ? score.value : (score.metrics?.[metric.name] ?? null);
      return [
        position === 0 ? name : "",
        metric.label,
        valueByKind(metric.kind, value),
        position === 0 ? text(score.label) : "",
        position === 0 ? text(score.model) : "",
        position === 0 ? text(score.error) : "",
      ];
    });
    return metricRows;
  });
  show(
    h(
      "section",
      { class: "card item-detail" },
      h("h2", {}, `Item ${String(row.test_id)}`),
      table(
        ["field", "value"],
        fields.map(([name, value]) => [name, text(value)]),
        { class: "kv" },
      ),
      h("h3", {}, "Scores"),
      table(["scorer", "metric", "value", "label", "model", "error"], scoreRows, { class: "scores-table" }),
      h("h3", {}, "Conversation"),
      ...messages.map((message) => textBlock(message.role, message.content)),
      h("div", { class: "response" }, textBlock("response", (row.raw_candidate as string | null) ?? null)),
      ...transcriptBlocks(transcript),
      ...Object.entries(scores)
        .filter(([, score]) => score.raw)
        .map(([name, score]) => textBlock(`${score.model ? "judge" : "scorer"} raw output — ${name}`, score.raw)),
      ...Object.entries(scores)
        .filter(([, score]) => score.data)
        .map(([name, score]) => textBlock(`${name}: structured output (JSON)`, JSON.stringify(score.data, null, 2))),
      row.error ? textBlock("error", String(row.error)) : null,
    ),
  );
}

async function comparePage(a: string, b: string): Promise<void> {
  clear(nav);
  append(nav, h("a", { href: "#/" }, "runs"));
  show(h("p", { class: "note card" }, "Comparing…"));
  const data = await api<ReportData>(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  show(renderComparison(data), h("div", { class: "side-by-side" }, ...data.runs.map((run) => renderRun(run))));
}

async function route(): Promise<void> {
  timers.forEach((timer) => clearInterval(timer));
  timers = [];
  const [path, search] = (location.hash.slice(1) || "/").split("?") as [string, string | undefined];
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  document.body.dataset.ready = "false";
  try {
    if (parts[0] === "run" && parts[1] && parts[2] === "items") await itemsPage(parts[1], new URLSearchParams(search ?? ""));
    else if (parts[0] === "run" && parts[1] && parts[2] === "item" && parts[3]) await itemPage(parts[1], parts[3]);
    else if (parts[0] === "run" && parts[1]) await runPage(parts[1]);
    else if (parts[0] === "compare" && parts[1] && parts[2]) await comparePage(parts[1], parts[2]);
    else await runsPage();
  } catch (error) {
    show(failure(error));
  }
  document.body.dataset.ready = "true";
}

addEventListener("hashchange", () => void route());
void route();
