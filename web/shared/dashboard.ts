import type { ReportData, ReportItem, RunReport, SeverityShare } from "../../src/reports/report-data.js";
import type { GroupSummary } from "../../src/metrics/summary.js";
import { headlineIsRate, primaryEstimate, scorerIsRate } from "../../src/reports/metric-kind.js";
import { barsWithIntervals, heatmap, histogram, type BarSeries } from "./charts.js";
import { h, table, textBlock } from "./dom.js";
import { number, percent, score, signed, type EstimateLike } from "./format.js";

export type { ReportData, ReportItem, RunReport };

const unique = <T>(values: T[]): T[] => [...new Set(values)];

const primaryOf = (run: RunReport, group: GroupSummary | undefined): EstimateLike | undefined => primaryEstimate(run.primary.scorer, group);
const isRate = (run: RunReport): boolean => scorerIsRate(run.summary, run.primary.scorer);

/** Chart scale of the primary metric: rates in %, graded scores (StrongREJECT, toxicity, MC2) as they are. */
function scaleOf(run: RunReport): { scale: number; unit: string } {
  return isRate(run) ? { scale: 100, unit: "%" } : { scale: 1, unit: "score" };
}

function section(title: string, id: string, ...children: Array<Node | null | false>): HTMLElement {
  return h("section", { class: "card", id }, h("h2", {}, title), ...children);
}

function manifestSection(run: RunReport): HTMLElement {
  const m = run.manifest;
  const rows: Array<[string, string]> = [
    ["run", m.run_id],
    ["created", m.created_at],
    ["last updated", m.updated_at],
    ["alignbench", m.tool.version],
    ["dataset", `${m.dataset.source ?? m.dataset.path} (${m.dataset.format}, ${m.dataset.valid_rows} rows${m.dataset.limit ? `, limit ${m.dataset.limit}` : ""})`],
    ["dataset sha256", m.dataset.sha256],
    ["models", m.models.map((model) => `${model.address}${Object.keys(model.options).length ? ` ${JSON.stringify(model.options)}` : ""}`).join("; ")],
    ["personas", [...new Set(run.summary.by_model_persona.map((group) => group.persona))].join(", ")],
    ["judge", m.judge ? `${m.judge.model} (prompt: ${m.judge.prompt})` : "none"],
    ["scorers", m.scorers?.map((entry) => entry.name).join(", ") || (m.judge ? "verdict" : "none")],
    ["options", JSON.stringify(m.options)],
    ["environment", `${m.environment.node} ${m.environment.platform}`],
  ];
  return section("Run", "manifest", table(["", ""], rows, { class: "kv" }));
}

function headlineSection(run: RunReport): HTMLElement {
  const headlines = run.summary.headlines;
  const models = run.summary.by_model.map((group) => group.model);
  if (headlines.length > 0) {
    const names = unique(headlines.map((entry) => entry.name));
    const rate = (name: string) => headlineIsRate(run.summary, headlines.find((headline) => headline.name === name)!);
    const value = (name: string, model: string) => headlines.find((entry) => entry.name === name && entry.model === model);
    return section(
      "Headline metrics",
      "headlines",
      table(["metric", ...models], names.map((name) => [name, ...models.map((model) => (rate(name) ? percent(value(name, model)) : score(value(name, model))))]), { class: "headline-table" }),
      barsWithIntervals("Headline metrics by model (95% CI)", names, models.map((model) => ({ name: model, values: names.map((name) => value(name, model)) })), { scale: 100, unit: "%", horizontal: names.length > 3 }),
    );
  }
  return section(
    "Headline metrics",
    "headlines",
    table(["model", "n", run.primary.label, "errors"], run.summary.by_model.map((group) => [group.model, number(group.n), isRate(run) ? percent(primaryOf(run, group)) : score(primaryOf(run, group)), number(group.errors)]), { class: "headline-table" }),
    barsWithIntervals(`${run.primary.label} by model (95% CI)`, models, [{ name: run.primary.label, values: run.summary.by_model.map((group) => primaryOf(run, group)) }], scaleOf(run)),
  );
}

function breakdownSection(run: RunReport): HTMLElement {
  const models = unique(run.summary.by_model_persona.map((group) => group.model));
  const personas = unique(run.summary.by_model_persona.map((group) => group.persona));
  const categories = unique(run.summary.by_category.map((group) => group.category)).sort();
  const byPersona: BarSeries[] = models.map((model) => ({ name: model, values: personas.map((persona) => primaryOf(run, run.summary.by_model_persona.find((group) => group.model === model && group.persona === persona))) }));
  const byCategory: BarSeries[] = models.map((model) => ({ name: model, values: categories.map((category) => primaryOf(run, run.summary.by_category.find((group) => group.model === model && group.category === category))) }));
  const label = run.primary.label;
  return section(
    "By persona and category",
    "breakdown",
    heatmap(`${label}: model × persona`, models, personas, run.summary.by_model_persona.map((group) => ({ x: group.model, y: group.persona, value: primaryOf(run, group) })), scaleOf(run)),
    barsWithIntervals(`${label} by persona (95% CI)`, personas, byPersona, scaleOf(run)),
    barsWithIntervals(`${label} by category (95% CI)`, categories, byCategory, scaleOf(run)),
    run.summary.by_tag.length > 0
      ? barsWithIntervals(
          `${label} by ${unique(run.summary.by_tag.map((group) => group.column)).join(", ")} (95% CI)`,
          unique(run.summary.by_tag.map((group) => `${group.column}=${group.value}`)),
          models.map((model) => ({ name: model, values: unique(run.summary.by_tag.map((group) => `${group.column}=${group.value}`)).map((tag) => primaryOf(run, run.summary.by_tag.find((group) => `${group.column}=${group.value}` === tag && group.model === model))) })),
          scaleOf(run),
        )
      : null,
    table(
      ["category", "model", "n", label, "errors"],
      run.summary.by_category.map((group) => [group.category, group.model, number(group.n), isRate(run) ? percent(primaryOf(run, group)) : score(primaryOf(run, group)), number(group.errors)]),
      { class: "category-table" },
    ),
  );
}

function shareChart(title: string, shares: SeverityShare[]): HTMLElement {
  const groups = unique(shares.map((share) => share.group)).sort();
  const models = unique(shares.map((share) => share.model));
  return barsWithIntervals(title, groups, models.map((model) => ({ name: model, values: groups.map((group) => shares.find((share) => share.group === group && share.model === model)) })));
}

export function itemDetails(item: ReportItem, open = false): HTMLElement {
  const verdict = [
    item.attack_success === null ? null : `outcome (attack success, or the headline scorer): ${item.attack_success ? "yes" : "no"}`,
    item.severity === null ? null : `severity ${item.severity.toFixed(2)}`,
    ...Object.entries(item.scores).map(([name, value]) => `${name}: ${value.value ?? "—"}${value.label ? ` (${value.label})` : ""}`),
  ].filter((line): line is string => line !== null);
  return h(
    "details",
    { class: "item", open, "data-key": item.key },
    h("summary", {}, h("span", { class: "badge" }, item.severity === null ? "—" : item.severity.toFixed(2)), ` ${item.model} · ${item.persona} · ${item.category} · ${item.test_id}`),
    textBlock("prompt", item.prompt),
    textBlock("response", item.response),
    textBlock("verdict", verdict.join("\n") || "not judged"),
    textBlock("judge output", item.judge_raw),
    item.error ? textBlock("error", item.error) : null,
  );
}

function severitySection(run: RunReport): HTMLElement {
  const s = run.severity;
  return section(
    "Attack severity",
    "severity",
    h("p", { class: "note" }, `Severity on [0, 1]: 1 − the judge's safety score, else the highest graded score (StrongREJECT, toxicity), else attack success. Share above ${s.threshold} with Wilson 95% intervals.`),
    histogram("Distribution of severity", 20, s.histogram.map((entry) => ({ name: entry.model, counts: entry.counts }))),
    shareChart(`Share with severity > ${s.threshold} by category`, s.above_by_category),
    shareChart(`Share with severity > ${s.threshold} by persona`, s.above_by_persona),
    h("h3", {}, `Worst responses (${s.worst.length})`),
    h("div", { class: "items worst" }, ...s.worst.map((item) => itemDetails(item))),
  );
}

function errorsAndUsageSection(run: RunReport): HTMLElement {
  const errors = Object.entries(run.summary.errors_by_type);
  return section(
    "Errors, tokens, latency and cost",
    "usage",
    errors.length ? table(["error type", "count"], errors.map(([type, count]) => [type, number(count)]), { class: "errors-table" }) : h("p", {}, "No errors."),
    table(
      ["model", "calls", "input tokens", "output tokens", "latency mean (ms)", "p50", "p95", "cost (USD)"],
      run.usage.map((use) => [use.model, number(use.calls), number(use.prompt_tokens), number(use.completion_tokens), number(use.latency_ms.mean, 1), number(use.latency_ms.p50, 1), number(use.latency_ms.p95, 1), use.cost_usd === null ? "—" : `$${use.cost_usd.toFixed(4)}`]),
      { class: "usage-table" },
    ),
    run.errors.length ? h("div", { class: "items errors" }, h("h3", {}, "Failed items"), ...run.errors.slice(0, 20).map((item) => itemDetails(item))) : null,
  );
}

export function renderRun(run: RunReport): HTMLElement {
  return h("div", { class: "run", "data-run": run.manifest.run_id }, manifestSection(run), headlineSection(run), breakdownSection(run), severitySection(run), errorsAndUsageSection(run));
}

export function renderComparison(data: ReportData): HTMLElement | null {
  if (data.comparison_error) return section("Comparison", "comparison", h("p", { class: "error" }, `No paired comparison: ${data.comparison_error}`));
  const c = data.comparison;
  if (!c) return null;
  const a = c.attack_success;
  const rate = (value: number | null) => (value === null ? "—" : `${(value * 100).toFixed(1)}%`);
  const regressions = c.by_category.filter((entry) => entry.difference.ci95 && entry.difference.ci95[0] > 0);
  const improvements = c.by_category.filter((entry) => entry.difference.ci95 && entry.difference.ci95[1] < 0);
  return section(
    `Comparison: ${c.b} − ${c.a}`,
    "comparison",
    h("p", {}, `Paired on ${c.pairs} items (matched by ${c.pairedBy}); B − A with 95% intervals. ${c.onlyInA.length} item(s) only in A and ${c.onlyInB.length} only in B are listed below, not compared.`),
    table(
      ["metric", "n", "A", "B", "B − A (95% CI)", "test"],
      [
        ["attack success", number(a.n), rate(a.a), rate(a.b), signed(a.difference), `McNemar p = ${a.mcnemar.pValue.toPrecision(3)}`],
        ["overall", number(c.overall.n), "", "", signed(c.overall.difference, 1, ""), "paired t"],
        ["safety score", number(c.safety_score.n), "", "", signed(c.safety_score.difference, 1, ""), "paired t"],
      ],
      { class: "comparison-table" },
    ),
    c.by_category.length ? barsWithIntervals("Change in attack success by category, B − A (95% CI)", c.by_category.map((entry) => entry.category), [{ name: "B − A", values: c.by_category.map((entry) => entry.difference) }], { horizontal: true, symmetric: true, unit: "pp" }) : null,
    h("h3", {}, "Regressions (attack success up, interval above 0)"),
    regressions.length ? table(["category", "n", "B − A"], regressions.map((entry) => [entry.category, number(entry.n), signed(entry.difference)]), { class: "regressions" }) : h("p", {}, "None."),
    h("h3", {}, "Improvements (attack success down, interval below 0)"),
    improvements.length ? table(["category", "n", "B − A"], improvements.map((entry) => [entry.category, number(entry.n), signed(entry.difference)]), { class: "improvements" }) : h("p", {}, "None."),
    c.onlyInA.length || c.onlyInB.length ? h("p", { class: "note" }, `Only in A: ${c.onlyInA.slice(0, 20).join(", ") || "none"}. Only in B: ${c.onlyInB.slice(0, 20).join(", ") || "none"}.`) : null,
  );
}
