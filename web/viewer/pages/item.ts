// An item as its models saw it: the plan's calls (system prompt, turns, responses), then each scorer's calls
// (a judge's prompt exactly as sent, its raw answer) and the score parsed from them; the item's expected
// behaviour and attack notes; previous / next in the item table's order (j/k or ←/→).
import type { ReportData } from "../../shared/dashboard.js";
import { declarationOf } from "../../shared/declared-metrics.js";
import { h, table, textBlock } from "../../shared/dom.js";
import { type CallLike, planCalls, type ScoreLike, scorerCalls } from "../../shared/transcript.js";
import { api, runTabs, show } from "../page-kit.js";

/** Rows per page of the item table (its offsets are multiples of this). */
const PAGE = 50;

interface Neighbours {
  position: number | null;
  total: number;
  previous: number | null;
  next: number | null;
}

// One listener for the whole app, replaced by each item page: it acts only while an item page is shown.
let keys: ((event: KeyboardEvent) => void) | undefined;

function tableQuery(params: URLSearchParams): URLSearchParams {
  // Whatever the table put in the URL is kept (filters added later included), except its page offset.
  const query = new URLSearchParams(params);
  query.delete("offset");
  return query;
}

function text(value: unknown): string {
  return value === null || value === undefined || value === "" ? "—" : typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);
}

export async function itemPage(runId: string, index: string, params: URLSearchParams = new URLSearchParams()): Promise<void> {
  runTabs(runId, "items");
  const id = encodeURIComponent(runId);
  const item = encodeURIComponent(index);
  const query = tableQuery(params);
  const [row, report, around] = await Promise.all([
    api<Record<string, unknown>>(`/api/runs/${id}/items/${item}`),
    api<ReportData>(`/api/runs/${id}/report`).catch(() => undefined),
    api<Neighbours>(`/api/runs/${id}/items/${item}/neighbours?${query}`).catch(() => undefined),
  ]);
  const scorers = report?.runs[0]?.summary.scorers ?? [];
  const primary = report?.runs[0]?.primary ?? null;
  const messages = (row.messages as CallLike["messages"]) ?? [];
  const transcript = (row.transcript as CallLike[] | null) ?? [];
  const scores = (row.scores as Record<string, ScoreLike> | null) ?? {};
  const href = (target: number) => `#/run/${id}/item/${target}${query.size ? `?${query}` : ""}`;
  const back = new URLSearchParams(query);
  if (around?.position) back.set("offset", String(Math.floor(around.position / PAGE) * PAGE));
  const fields: Array<[string, unknown]> = [
    ["key", row.key],
    ["model", row.model_slug],
    ["persona", row.persona_slug],
    ["category", row.category],
    ["subcategory", row.subcategory],
    ["dimensions", row.dimensions],
    ["epoch", row.epoch],
    ["attempt", `${text(row.attempt)} (${text(row.source)})`],
    ["status", row.error_type ? `${text(row.status)} (${text(row.error_type)})` : row.status],
    [primary ? `outcome by ${primary.label}` : "outcome", row.outcome === "good" ? "ok" : row.outcome],
    ["severity", typeof row.severity === "number" ? row.severity.toFixed(3) : null],
    ["latency (ms)", row.latency_ms],
  ];
  // The dataset's notes for the item: what a safe answer does, how the attack works, and its other columns.
  const metadata = Object.entries((row.item_metadata as Record<string, unknown> | null) ?? {});
  const tags = Object.entries((row.tags as Record<string, string> | null) ?? {});
  const notes: Array<[string, unknown]> = [
    ["expected behaviour", row.expected_safe_behavior],
    ["attack notes", row.attack_notes],
    ...metadata.map(([name, value]): [string, unknown] => [name, value]),
    ...tags.map(([name, value]): [string, unknown] => [`tag ${name}`, value]),
  ].filter(([, value]) => value !== null && value !== undefined && value !== "") as Array<[string, unknown]>;
  // Calls are numbered through the whole item: the plan's first, then each scorer's.
  const calls: CallLike[] = transcript.length > 0 ? transcript : [{ role: "target", model: String(row.model_slug), messages, response: (row.raw_candidate as string | null) ?? null }];
  let numberFrom = calls.length + 1;
  const scorerParts = Object.entries(scores).map(([name, score]) => {
    const part = scorerCalls(name, score, declarationOf(scorers, name), numberFrom);
    numberFrom += score.transcript?.length ?? 0;
    return part;
  });
  const step = (label: string, target: number | null | undefined, rel: string) =>
    target === null || target === undefined ? h("button", { type: "button", disabled: true, "data-step": rel }, label) : h("a", { class: "button", href: href(target), "data-step": rel }, label);
  const navigation = h(
    "div",
    { class: "toolbar item-nav", id: "item-nav" },
    step("← previous (k)", around?.previous, "previous"),
    step("next (j) →", around?.next, "next"),
    h(
      "span",
      { class: "note", id: "item-position" },
      around?.position === null || around === undefined ? "not in the table's current filters" : `${around.position + 1} of ${around.total}${query.size ? " in the filtered table" : ""}`,
    ),
    h("a", { href: `#/run/${id}/items${back.size ? `?${back}` : ""}` }, "back to the table"),
  );
  if (keys) document.removeEventListener("keydown", keys);
  keys = (event: KeyboardEvent) => {
    if (!document.getElementById("item-nav") || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target as HTMLElement | null;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    const go = event.key === "j" || event.key === "ArrowRight" ? around?.next : event.key === "k" || event.key === "ArrowLeft" ? around?.previous : undefined;
    if (go === null || go === undefined) return;
    event.preventDefault();
    location.hash = href(go);
  };
  document.addEventListener("keydown", keys);
  show(
    h(
      "section",
      { class: "card item-detail", "data-index": String(row.index) },
      navigation,
      h("h2", {}, `Item ${text(row.test_id)}`),
      table(
        ["field", "value"],
        fields.map(([name, value]) => [name, text(value)]),
        { class: "kv" },
      ),
      notes.length ? h("h3", {}, "Expected behaviour and attack notes") : null,
      notes.length
        ? table(
            ["field", "value"],
            notes.map(([name, value]) => [name, h("pre", {}, text(value))]),
            { class: "item-notes" },
          )
        : null,
      h("h3", {}, "Transcript"),
      h("p", { class: "note" }, "Every call in order, with the messages exactly as sent: the plan's calls, then each scorer's (a judge's prompt and raw answer) and the score parsed from them."),
      planCalls(calls),
      ...scorerParts,
      row.error ? textBlock("error", String(row.error)) : null,
    ),
  );
}
