import type { RunReport } from "../../src/reports/report-data.js";
import { h, table } from "./dom.js";
import { number } from "./format.js";
import { itemDetails } from "./item-details.js";
import { section } from "./section-card.js";

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
