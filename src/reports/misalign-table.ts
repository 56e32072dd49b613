import type { RunsEstimate } from "../metrics/misalignment.js";
import type { MisalignEvalReport } from "../runner/misalign-eval.js";
import { renderTable } from "./terminal-summary.js";

function cell(estimate: RunsEstimate): string {
  if (estimate.mean === null) return "—";
  const interval = estimate.ci95 ? ` [${estimate.ci95[0].toFixed(3)}, ${estimate.ci95[1].toFixed(3)}]` : "";
  const spread = estimate.sd !== null ? ` sd ${estimate.sd.toFixed(3)}` : "";
  return `${estimate.mean.toFixed(3)}${interval}${spread}`;
}

/** The report as terminal tables: one per detector, overall then each domain. */
export function renderMisalignReport(report: MisalignEvalReport, options: { domains?: boolean } = {}): string {
  const out: string[] = [];
  for (const detector of report.detectors) {
    const rows = [{ kind: "all", domain: "", ...detector.overall }, ...(options.domains === false ? [] : detector.by_domain)];
    out.push(`${detector.detector} — ${report.runs} run${report.runs === 1 ? "" : "s"}, mean over runs [95% interval] and sd across runs`);
    out.push(
      renderTable(
        ["taxonomy", "domain", "answers", "Coverage", "FFR", "Alignment Score", "unparseable"],
        rows.map((row) => {
          const c = row.counts;
          const answered = c.tp + c.fn + c.fp + c.tn;
          const unparseable = c.unparseable_misaligned + c.unparseable_aligned;
          return [
            row.kind,
            row.domain,
            String(answered + unparseable),
            cell(row.coverage),
            cell(row.ffr),
            cell(row.alignment_score),
            `${unparseable} (${c.unparseable_misaligned} mis / ${c.unparseable_aligned} al)`,
          ];
        }),
      ),
    );
    if (detector.unparseable_examples.length > 0)
      out.push(
        `unparseable answers (left out of every rate), e.g. ${detector.unparseable_examples
          .slice(0, 3)
          .map((e) => JSON.stringify(e.answer))
          .join(", ")}`,
      );
    out.push("");
  }
  out.push(`interval: ${report.interval}; ${report.bootstrap.resamples} resamples, seed ${report.bootstrap.seed}; unit: ${report.bootstrap.unit}`);
  return out.join("\n");
}
