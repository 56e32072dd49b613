import type { RunReport, UsageSummary } from "../../src/reports/report-types.js";
import { usageTotals, type UsageTotal } from "../../src/reports/usage-totals.js";
import { h, table } from "./dom.js";
import { number } from "./format.js";
import { itemDetails } from "./item-details.js";
import { section } from "./section-card.js";

function cost(value: number | null, partial = false): string {
  return value === null ? "—" : `$${value.toFixed(4)}${partial ? " (priced models only)" : ""}`;
}

/** Every model in every role, the judges' calls apart by scorer, then totals per model and over all. */
function usageTable(rows: UsageSummary[]): HTMLElement {
  const totals = usageTotals(rows);
  const totalRow = (label: string, role: string, total: UsageTotal) => [
    label,
    role,
    "",
    number(total.calls),
    number(total.input_tokens),
    number(total.output_tokens),
    "",
    "",
    "",
    cost(total.cost_usd, total.cost_partial),
  ];
  const body = rows.map((use) => [
    use.model,
    use.role,
    use.scorer ?? "—",
    number(use.calls),
    number(use.input_tokens),
    number(use.output_tokens),
    number(use.latency_ms.mean, 1),
    number(use.latency_ms.p50, 1),
    number(use.latency_ms.p95, 1),
    cost(use.cost_usd),
  ]);
  // Subtotals only where a model plays several roles; the grand total whenever there is more than one row.
  const subtotals = totals.byModel.filter((total) => rows.filter((row) => row.model === total.model).length > 1).map((total) => totalRow(total.model, "all roles", total));
  const all = rows.length > 1 ? [totalRow("all models", "total", totals.all)] : [];
  const element = table(["model", "role", "scorer", "calls", "input tokens", "output tokens", "latency mean (ms)", "p50", "p95", "cost (USD)"], [...body, ...subtotals, ...all], {
    class: "usage-table",
  });
  const tbody = element.querySelector("tbody")!;
  Array.from(tbody.rows)
    .slice(body.length)
    .forEach((row) => row.classList.add("usage-total"));
  return element;
}

export function errorsAndUsageSection(run: RunReport): HTMLElement {
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
    usageTable(run.usage),
    run.errors.length ? h("div", { class: "items errors" }, h("h3", {}, "Failed items"), ...run.errors.slice(0, 20).map((item) => itemDetails(item, run))) : null,
  );
}
