import type { ReportData, ReportItem, RunReport, SeverityShare } from "../../src/reports/report-data.js";
import type { Breakdown, GroupSummary, Headline, MetricSummary } from "../../src/metrics/summary-types.js";
import type { BadDirection, MetricDeclaration, ScorerDeclaration } from "../../src/scorers/types.js";
import { barsWithIntervals, heatmap, histogram, type BarSeries, type ChartScale } from "./charts.js";
import { h, table, textBlock } from "./dom.js";
import { byKind, number, signed, valueByKind, type EstimateLike } from "./format.js";

export type { ReportData, ReportItem, RunReport };

// Everything here reads the run's scorer declarations (summary.scorers): what each metric is called, its
// kind (a rate in %, a bounded mean on its range, an unbounded mean with its unit) and which way is bad.
// No scorer is known by name.

const unique = <T>(values: T[]): T[] => [...new Set(values)];

interface MetricRef {
  scorer: string;
  metric: string;
}

function declarationOf(scorers: readonly ScorerDeclaration[], name: string): ScorerDeclaration | undefined {
  const exact = scorers.find((declaration) => declaration.name === name);
  if (exact) return exact;
  // A named scoring's scorer (`NAME/scorer`) is its scorer under the full name.
  const base = name.includes("/") ? scorers.find((declaration) => declaration.name === name.slice(name.lastIndexOf("/") + 1)) : undefined;
  return base ? { ...base, name } : undefined;
}

function metricOf(run: RunReport, ref: MetricRef | null | undefined): MetricDeclaration | undefined {
  return ref ? declarationOf(run.summary.scorers, ref.scorer)?.metrics.find((metric) => metric.name === ref.metric) : undefined;
}

function estimateOf(group: Pick<GroupSummary, "scores"> | undefined, ref: MetricRef | null | undefined): MetricSummary | undefined {
  return ref ? group?.scores[ref.scorer]?.[ref.metric] : undefined;
}

/** How a metric is charted: rates in % from 0 to 100, bounded means on their range, unbounded ones on their own scale. */
export function chartScale(metric: MetricDeclaration | undefined): ChartScale {
  const bad = metric && typeof metric.bad === "string" ? metric.bad : "none";
  if (!metric || metric.kind.type === "rate") return { scale: 100, unit: "%", min: 0, max: 1, bad: metric ? bad : "high" };
  if (metric.kind.type === "bounded") return { scale: 1, unit: metric.label, min: metric.kind.range[0], max: metric.kind.range[1], bad };
  return { scale: 1, unit: metric.kind.unit ?? "", unbounded: true, bad };
}

/** Which way is bad, in words: "higher is worse", or per tag "higher is worse where label is safe; lower is worse where label is unsafe". */
export function directionText(bad: BadDirection): string {
  if (bad === "high") return "higher is worse";
  if (bad === "low") return "lower is worse";
  if (bad === "none") return "no direction";
  const parts = [
    bad.high?.length ? `higher is worse where ${bad.tag} is ${bad.high.join(" or ")}` : null,
    bad.low?.length ? `lower is worse where ${bad.tag} is ${bad.low.join(" or ")}` : null,
  ].filter((part): part is string => part !== null);
  return parts.join("; ") || "no direction";
}

/** Which values are the bad outcome, in words: for XSTest "1 where label is safe; 0 where label is unsafe". */
export function badWhenText(metric: MetricDeclaration): string {
  const bad = metric.bad;
  if (metric.kind.type !== "rate") return directionText(bad);
  if (bad === "high") return "a 1";
  if (bad === "low") return "a 0";
  if (bad === "none") return "none (no direction)";
  return [bad.high?.length ? `a 1 where ${bad.tag} is ${bad.high.join(" or ")}` : null, bad.low?.length ? `a 0 where ${bad.tag} is ${bad.low.join(" or ")}` : null].filter(Boolean).join("; ");
}

function section(title: string, id: string, ...children: Array<Node | null | false>): HTMLElement {
  return h("section", { class: "card", id }, h("h2", {}, title), ...children);
}

function breakdownOf(run: RunReport, ...dimensions: string[]): Breakdown | undefined {
  return run.summary.breakdowns.find((breakdown) => breakdown.dimensions.length === dimensions.length && breakdown.dimensions.every((dimension, index) => dimension === dimensions[index]));
}

function modelsOf(run: RunReport): string[] {
  const byModel = breakdownOf(run, "model");
  return byModel ? byModel.groups.map((group) => group.by.model ?? "") : unique(run.summary.headlines.map((headline) => headline.model));
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
    ["personas", m.personas.join(", ") || "none"],
    ["judge", m.judge ? `${m.judge.model} (prompt: ${m.judge.prompt})` : "none"],
    ["scorers", run.summary.scorers.map((scorer) => scorer.name).join(", ") || "none"],
    ["options", JSON.stringify(m.options)],
    ["environment", `${m.environment.node} ${m.environment.platform}`],
  ];
  return section("Run", "manifest", table(["", ""], rows, { class: "kv" }));
}

/** What each scorer measures: its metrics, kinds and directions, as declared. */
function scorersSection(run: RunReport): HTMLElement {
  const rows = run.summary.scorers.flatMap((scorer) =>
    scorer.metrics.map((metric, index) => [
      index === 0 ? scorer.name : "",
      metric.label,
      metric.kind.type === "rate"
        ? "rate (0/1), %"
        : metric.kind.type === "bounded"
          ? `mean on [${metric.kind.range[0]}, ${metric.kind.range[1]}]`
          : `mean${metric.kind.unit ? ` in ${metric.kind.unit}` : ""} (unbounded)`,
      directionText(metric.bad),
      byKind(metric.kind, run.summary.totals.scores[scorer.name]?.[metric.name]),
    ]),
  );
  return section("Scorers", "scorers", table(["scorer", "metric", "kind", "direction", "all items (95% CI)"], rows, { class: "scorers-table" }));
}

/** A headline's kind: a toxicity probability is a rate; expected maximum toxicity a mean on the metric's range. */
function headlineMetric(run: RunReport, headline: Headline): MetricDeclaration | undefined {
  const metric = metricOf(run, headline);
  if (headline.statistic === "toxicity_probability") return metric ? { ...metric, kind: { type: "rate" } } : undefined;
  return metric;
}

/** A key per chart scale, so headlines of one kind share a chart. */
function scaleKey(metric: MetricDeclaration | undefined): string {
  const kind = metric?.kind;
  return !kind || kind.type === "rate" ? "rate" : kind.type === "bounded" ? `bounded:${kind.range.join(",")}` : `unbounded:${kind.unit ?? ""}:${metric!.label}`;
}

function headlineSection(run: RunReport): HTMLElement {
  const headlines = run.summary.headlines;
  const models = modelsOf(run);
  if (headlines.length > 0) {
    const names = unique(headlines.map((entry) => entry.name));
    const first = (name: string) => headlines.find((headline) => headline.name === name)!;
    const value = (name: string, model: string) => headlines.find((entry) => entry.name === name && entry.model === model);
    const direction = (name: string) => {
      const higher = first(name).higher_is;
      return higher === "worse" ? "higher is worse" : higher === "better" ? "higher is better" : "";
    };
    const groups = new Map<string, string[]>();
    for (const name of names) {
      const key = scaleKey(headlineMetric(run, first(name)));
      groups.set(key, [...(groups.get(key) ?? []), name]);
    }
    return section(
      "Headline metrics",
      "headlines",
      table(
        ["metric", "direction", ...models],
        names.map((name) => [name, direction(name), ...models.map((model) => byKind(headlineMetric(run, first(name))?.kind, value(name, model)))]),
        { class: "headline-table" },
      ),
      ...[...groups.values()].map((group) =>
        barsWithIntervals(
          groups.size > 1 ? `${group.join(", ")} by model (95% CI)` : "Headline metrics by model (95% CI)",
          group,
          models.map((model) => ({ name: model, values: group.map((name) => value(name, model)) })),
          { ...chartScale(headlineMetric(run, first(group[0]!))), horizontal: group.length > 3 },
        ),
      ),
    );
  }
  const metric = metricOf(run, run.primary);
  const label = run.primary?.label ?? "items";
  const byModel = breakdownOf(run, "model")?.groups ?? [];
  return section(
    "Headline metrics",
    "headlines",
    table(
      ["model", "n", ...(run.primary ? [label] : []), "errors"],
      byModel.map((group) => [group.by.model ?? "", number(group.n), ...(run.primary ? [byKind(metric?.kind, estimateOf(group, run.primary))] : []), number(group.errors)]),
      { class: "headline-table" },
    ),
    run.primary && metric ? h("p", { class: "note direction" }, `${label}: ${directionText(metric.bad)}.`) : null,
    run.primary ? barsWithIntervals(`${label} by model (95% CI)`, models, [{ name: label, values: byModel.map((group) => estimateOf(group, run.primary)) }], chartScale(metric)) : null,
  );
}

/** A breakdown's groups as a table: its dimensions, n, errors, and each scorer's primary metric. */
function breakdownTable(run: RunReport, breakdown: Breakdown): HTMLElement {
  const refs = run.summary.scorers.map((scorer) => ({ scorer: scorer.name, metric: scorer.metrics[0].name, declaration: scorer.metrics[0] }));
  return table(
    [...breakdown.dimensions, "n", "errors", ...refs.map((ref) => ref.declaration.label)],
    breakdown.groups.map((group) => [
      ...breakdown.dimensions.map((dimension) => group.by[dimension] ?? ""),
      number(group.n),
      number(group.errors),
      ...refs.map((ref) => byKind(ref.declaration.kind, estimateOf(group, ref))),
    ]),
    { class: "breakdown-table", "data-dimensions": breakdown.dimensions.join(",") },
  );
}

function breakdownSection(run: RunReport): HTMLElement {
  const ref = run.primary;
  const metric = metricOf(run, ref);
  const label = ref?.label ?? "";
  const scale = chartScale(metric);
  const models = modelsOf(run);
  const charts: Array<HTMLElement | null> = [];
  const tables: HTMLElement[] = [];
  for (const breakdown of run.summary.breakdowns) {
    const dimensions = breakdown.dimensions;
    if (dimensions.length === 1 && dimensions[0] === "model") continue; // the headline section's
    tables.push(h("details", { class: "breakdown" }, h("summary", {}, `By ${dimensions.join(" × ")} (${breakdown.groups.length} groups)`), breakdownTable(run, breakdown)));
    if (!ref) continue;
    const other = dimensions.length === 2 && dimensions.includes("model") ? dimensions.find((dimension) => dimension !== "model")! : dimensions.length === 1 ? dimensions[0]! : undefined;
    if (other === undefined) continue;
    const values = unique(breakdown.groups.map((group) => group.by[other] ?? ""));
    if (other !== "persona" && other !== "model") values.sort();
    const seriesModels = dimensions.includes("model") ? models : [""];
    const find = (value: string, model: string) => breakdown.groups.find((group) => group.by[other] === value && (model === "" || group.by.model === model));
    if (other === "persona" && dimensions.includes("model")) {
      charts.push(
        heatmap(
          `${label}: model × persona`,
          models,
          values,
          breakdown.groups.map((group) => ({ x: group.by.model ?? "", y: group.by.persona ?? "", value: estimateOf(group, ref) })),
          scale,
        ),
      );
    }
    const series: BarSeries[] = seriesModels.map((model) => ({ name: model || label, values: values.map((value) => estimateOf(find(value, model), ref)) }));
    charts.push(barsWithIntervals(`${label} by ${other} (95% CI)`, values, series, scale));
  }
  return section(
    "Breakdowns",
    "breakdown",
    metric
      ? h(
          "p",
          { class: "note direction" },
          `Charts show ${label} (${metric.kind.type === "rate" ? "in %" : metric.kind.type === "bounded" ? `on [${metric.kind.range.join(", ")}]` : `unbounded${metric.kind.unit ? `, in ${metric.kind.unit}` : ""}`}; ${directionText(metric.bad)}).`,
        )
      : null,
    ...charts,
    ...tables,
  );
}

function shareChart(title: string, shares: SeverityShare[]): HTMLElement {
  const groups = unique(shares.map((share) => share.group)).sort();
  const models = unique(shares.map((share) => share.model));
  return barsWithIntervals(
    title,
    groups,
    models.map((model) => ({ name: model, values: groups.map((group) => shares.find((share) => share.group === group && share.model === model)) })),
  );
}

function outcomeText(item: ReportItem): string {
  return item.outcome === "bad" ? "bad" : item.outcome === "good" ? "ok" : item.outcome === "neutral" ? "—" : "not scored";
}

/** The lines of a message list, as text. */
function conversationText(messages: Array<{ role: string; content: string }>): string {
  return messages.map((message) => `[${message.role}]\n${message.content}`).join("\n\n");
}

/** One item, expandable: prompt, response, outcome, each scorer's result, its transcript and the judges' raw outputs. */
export function itemDetails(item: ReportItem, run?: RunReport, open = false): HTMLElement {
  const scorers = run?.summary.scorers ?? [];
  const primary = run?.primary;
  const lines = [
    primary ? `outcome by ${primary.label}: ${outcomeText(item)}` : null,
    item.severity === null ? null : `severity ${item.severity.toFixed(2)}`,
    ...Object.entries(item.tags ?? {}).map(([name, value]) => `${name}: ${value}`),
    ...Object.entries(item.scores).map(([name, score]) => {
      const declaration = declarationOf(scorers, name);
      const metrics = Object.entries(score.metrics ?? {}).map(
        ([metric, value]) => `${declaration?.metrics.find((entry) => entry.name === metric)?.label ?? metric} ${valueByKind(declaration?.metrics.find((entry) => entry.name === metric)?.kind, value)}`,
      );
      return `${name} — ${declaration?.metrics[0].label ?? "value"}: ${valueByKind(declaration?.metrics[0].kind, score.value)}${score.label ? ` (${score.label})` : ""}${metrics.length ? `; ${metrics.join("; ")}` : ""}${score.error ? `; error: ${score.error}` : ""}`;
    }),
  ].filter((line): line is string => line !== null);
  return h(
    "details",
    { class: "item", open, "data-key": item.key, "data-outcome": item.outcome ?? "none" },
    h(
      "summary",
      {},
      h("span", { class: `badge outcome-${item.outcome ?? "none"}` }, item.severity === null ? outcomeText(item) : item.severity.toFixed(2)),
      ` ${item.model} · ${item.persona} · ${item.category} · ${item.test_id}${
        item.tags
          ? ` · ${Object.entries(item.tags)
              .map(([name, value]) => `${name}=${value}`)
              .join(" ")}`
          : ""
      }`,
    ),
    textBlock("prompt", item.prompt),
    textBlock("response", item.response),
    textBlock("scores", lines.join("\n") || "not scored"),
    ...(item.transcript && item.transcript.length > 0 ? transcriptBlocks(item.transcript) : []),
    ...Object.entries(item.scores)
      .filter(([, score]) => score.raw)
      .map(([name, score]) => textBlock(`${score.model ? "judge" : "scorer"} raw output — ${name}`, score.raw)),
    item.error ? textBlock("error", item.error) : null,
  );
}

/** Every call of a plan, in order: who was asked (role, model), what it was sent and what it answered. Text only. */
export function transcriptBlocks(calls: NonNullable<ReportItem["transcript"]>): HTMLElement[] {
  return [
    h(
      "div",
      { class: "transcript" },
      h("div", { class: "text-label" }, `transcript (${calls.length} call${calls.length === 1 ? "" : "s"})`),
      ...calls.map((call, index) =>
        h(
          "div",
          { class: "call", "data-role": call.role },
          textBlock(`${index + 1}. ${call.role} · ${call.model} — sent`, conversationText(call.messages ?? [])),
          textBlock(`${index + 1}. ${call.role} · ${call.model} — answered${call.finish_reason ? ` (${call.finish_reason})` : ""}`, call.error ? `error: ${call.error}` : call.response),
        ),
      ),
    ),
  ];
}

function severitySection(run: RunReport): HTMLElement {
  const s = run.severity;
  const metric = metricOf(run, run.primary);
  const label = run.primary?.label ?? "the primary metric";
  const graded = s.histogram.length > 0;
  return section(
    "Severity and worst responses",
    "severity",
    metric
      ? h(
          "p",
          { class: "note" },
          `Severity on [0, 1]: how bad each response is by ${label}, read from its declared direction (${directionText(metric.bad)}) and range. Worst responses are those whose outcome is bad: ${badWhenText(metric)}.${graded ? ` Share above ${s.threshold} with Wilson 95% intervals.` : ""}`,
        )
      : h("p", { class: "note" }, "No scorer declares a direction, so no response is called bad."),
    graded
      ? histogram(
          "Distribution of severity",
          20,
          s.histogram.map((entry) => ({ name: entry.model, counts: entry.counts })),
        )
      : null,
    graded ? shareChart(`Share with severity > ${s.threshold} by category`, s.above_by_category) : null,
    graded ? shareChart(`Share with severity > ${s.threshold} by persona`, s.above_by_persona) : null,
    h("h3", {}, `Worst responses by ${label} (${s.worst.length})`),
    s.worst.length ? h("div", { class: "items worst" }, ...s.worst.map((item) => itemDetails(item, run))) : h("p", { class: "note" }, "None: no response has a bad outcome."),
  );
}

function errorsAndUsageSection(run: RunReport): HTMLElement {
  const errors = Object.entries(run.summary.errors_by_type);
  return section(
    "Errors, tokens, latency and cost",
    "usage",
    errors.length
      ? table(
          ["error type", "count"],
          errors.map(([type, count]) => [type, number(count)]),
          { class: "errors-table" },
        )
      : h("p", {}, "No errors."),
    table(
      ["model", "calls", "input tokens", "output tokens", "latency mean (ms)", "p50", "p95", "cost (USD)"],
      run.usage.map((use) => [
        use.model,
        number(use.calls),
        number(use.prompt_tokens),
        number(use.completion_tokens),
        number(use.latency_ms.mean, 1),
        number(use.latency_ms.p50, 1),
        number(use.latency_ms.p95, 1),
        use.cost_usd === null ? "—" : `$${use.cost_usd.toFixed(4)}`,
      ]),
      { class: "usage-table" },
    ),
    run.errors.length ? h("div", { class: "items errors" }, h("h3", {}, "Failed items"), ...run.errors.slice(0, 20).map((item) => itemDetails(item, run))) : null,
  );
}

export function renderRun(run: RunReport): HTMLElement {
  return h(
    "div",
    { class: "run", "data-run": run.manifest.run_id },
    manifestSection(run),
    headlineSection(run),
    breakdownSection(run),
    severitySection(run),
    scorersSection(run),
    errorsAndUsageSection(run),
  );
}

export function renderComparison(data: ReportData): HTMLElement | null {
  if (data.comparison_error) return section("Comparison", "comparison", h("p", { class: "error" }, `No paired comparison: ${data.comparison_error}`));
  const c = data.comparison;
  if (!c) return null;
  const level = (metric: (typeof c.metrics)[number], value: number | null) =>
    value === null ? "—" : metric.kind.type === "rate" ? `${(value * 100).toFixed(1)}%` : `${value.toFixed(3)}${metric.kind.type === "unbounded" && metric.kind.unit ? ` ${metric.kind.unit}` : ""}`;
  const change = (metric: Pick<(typeof c.metrics)[number], "kind">, difference: EstimateLike) =>
    metric.kind.type === "rate" ? signed(difference) : signed(difference, 1, metric.kind.type === "unbounded" && metric.kind.unit ? ` ${metric.kind.unit}` : "");
  const test = (metric: (typeof c.metrics)[number]) => {
    const pValue: number | null = metric.test.pValue;
    return `${metric.kind.type === "rate" ? "McNemar" : "paired t"}${pValue === null ? "" : ` p = ${pValue.toPrecision(3)}`}`;
  };
  const primary = c.primary ? c.metrics.find((metric) => metric.scorer === c.primary!.scorer && metric.metric === c.primary!.metric) : undefined;
  const label = primary?.label ?? "the primary metric";
  // Regressions and improvements follow the primary metric's declared direction; a direction that depends
  // on each item's tag (XSTest) cannot call a category's change either, so changes are listed as such.
  const bad = primary && typeof primary.bad === "string" ? primary.bad : "none";
  const up = c.by_category.filter((entry) => entry.difference.ci95 && entry.difference.ci95[0] > 0);
  const down = c.by_category.filter((entry) => entry.difference.ci95 && entry.difference.ci95[1] < 0);
  const rows = (entries: typeof c.by_category, className: string) =>
    entries.length && primary
      ? table(
          ["category", "n", "B − A"],
          entries.map((entry) => [entry.category, number(entry.n), change(primary, entry.difference)]),
          { class: className },
        )
      : h("p", {}, "None.");
  const lists =
    bad === "none"
      ? [
          h("h3", {}, `Changes in ${label} (interval excludes 0)`),
          rows([...up, ...down], "changes"),
          h("p", { class: "note" }, `${label} has ${primary ? directionText(primary.bad) : "no direction"}, so a change is neither a regression nor an improvement by itself.`),
        ]
      : [
          h("h3", {}, `Regressions (${label} ${bad === "high" ? "up" : "down"}, interval ${bad === "high" ? "above" : "below"} 0)`),
          rows(bad === "high" ? up : down, "regressions"),
          h("h3", {}, `Improvements (${label} ${bad === "high" ? "down" : "up"}, interval ${bad === "high" ? "below" : "above"} 0)`),
          rows(bad === "high" ? down : up, "improvements"),
        ];
  return section(
    `Comparison: ${c.b} − ${c.a}`,
    "comparison",
    h(
      "p",
      {},
      `Paired on ${c.pairs} items (matched by ${c.pairedBy}); B − A with 95% intervals. ${c.onlyInA.length} item(s) only in A and ${c.onlyInB.length} only in B are listed below, not compared.`,
    ),
    table(
      ["metric", "n", "A", "B", "B − A (95% CI)", "test", "direction"],
      c.metrics.map((metric) => [metric.label, number(metric.n), level(metric, metric.a), level(metric, metric.b), change(metric, metric.difference), test(metric), directionText(metric.bad)]),
      { class: "comparison-table" },
    ),
    c.by_category.length && primary
      ? barsWithIntervals(
          `Change in ${label} by category, B − A (95% CI)`,
          c.by_category.map((entry) => entry.category),
          [{ name: "B − A", values: c.by_category.map((entry) => entry.difference) }],
          {
            horizontal: true,
            symmetric: true,
            unit: primary.kind.type === "rate" ? "pp" : primary.kind.type === "unbounded" ? (primary.kind.unit ?? "") : "",
            scale: primary.kind.type === "rate" ? 100 : 1,
          },
        )
      : null,
    ...lists,
    c.onlyInA.length || c.onlyInB.length ? h("p", { class: "note" }, `Only in A: ${c.onlyInA.slice(0, 20).join(", ") || "none"}. Only in B: ${c.onlyInB.slice(0, 20).join(", ") || "none"}.`) : null,
  );
}

export type { EstimateLike };
