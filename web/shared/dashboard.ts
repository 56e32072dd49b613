import type { ReportData, ReportItem, RunReport } from "../../src/reports/report-types.js";
import type { EstimateLike } from "./format.js";
import { breakdownSection } from "./breakdown-section.js";
import { driftSection } from "./drift-section.js";
import { h } from "./dom.js";
import { headlineSection } from "./headline-section.js";
import { judgingSection } from "./judging-section.js";
import { manifestSection, scorersSection } from "./run-info-sections.js";
import { severitySection } from "./severity-section.js";
import { errorsAndUsageSection } from "./usage-section.js";

export type { ReportData, ReportItem, RunReport };

/** One run's page, section by section (each section is built in its own module). */
export function renderRun(run: RunReport): HTMLElement {
  return h(
    "div",
    { class: "run", "data-run": run.manifest.run_id },
    manifestSection(run),
    headlineSection(run),
    driftSection(run),
    breakdownSection(run),
    severitySection(run),
    scorersSection(run),
    judgingSection(run),
    errorsAndUsageSection(run),
  );
}

export type { EstimateLike };
