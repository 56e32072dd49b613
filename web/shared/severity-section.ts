import type { RunReport, SeverityShare } from "../../src/reports/report-types.js";
import { naturalCompare } from "../../src/common/natural-order.js";
import { barsWithIntervals, histogram } from "./charts.js";
import { badWhenText, directionText, metricOf, unique } from "./declared-metrics.js";
import { h } from "./dom.js";
import { itemDetails } from "./item-details.js";
import { section } from "./section-card.js";

/** The share above the threshold per group and model; none for a single group (nothing to compare). */
function shareChart(title: string, shares: SeverityShare[]): HTMLElement | null {
  const groups = unique(shares.map((share) => share.group)).sort(naturalCompare);
  if (groups.length < 2) return null;
  const models = unique(shares.map((share) => share.model));
  return barsWithIntervals(
    title,
    groups,
    models.map((model) => ({ name: model, values: groups.map((group) => shares.find((share) => share.group === group && share.model === model)) })),
  );
}

export function severitySection(run: RunReport): HTMLElement {
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
