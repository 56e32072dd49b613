import type { DriftFindingsReport, DriftFlip } from "../../src/reports/report-types.js";
import { histogram } from "./charts.js";
import { h, table } from "./dom.js";

// The drift section's findings per checkpoint (src/reports/drift-findings.ts): how per-text fidelity loss
// spreads over the in-domain texts, the tokens where the checkpoint moved furthest from the base with the
// text before them, and the probes whose verdict flipped. Tokens, contexts and prompts come from models and
// data sets: they only ever become text nodes (dom.ts).

type Checkpoint = DriftFindingsReport["checkpoints"][number];

const nats = (value: number) => (value === 0 ? "0" : value >= 0.01 ? value.toFixed(3) : value.toExponential(2));
const verdict = (value: number | null) => (value === 1 ? "aligned" : value === 0 ? "not aligned" : "—");

/** Bin labels from the shared edges, with the fewest decimals that write every edge exactly, e.g. "0.05–0.10". */
function binLabels(edges: number[]): string[] {
  const exact = (digits: number) => edges.every((edge) => Math.abs(Number(edge.toFixed(digits)) - edge) <= 1e-9 * Math.max(1, edge));
  let digits = 0;
  while (digits < 8 && !exact(digits)) digits++;
  return edges.slice(0, -1).map((edge, index) => `${edge.toFixed(digits)}–${edges[index + 1]!.toFixed(digits)}`);
}

function topKlTable(checkpoint: Checkpoint): HTMLElement {
  if (checkpoint.top_kl.length === 0) return h("p", { class: "note" }, "No position with a KL above 0: the checkpoint predicts every kept position as the base does.");
  return table(
    ["KL (nats)", "token", "text before it", "text", "part", "position"],
    checkpoint.top_kl.map((entry) => [
      nats(entry.kl),
      h("code", { class: "kl-token" }, entry.token),
      h("span", { class: "kl-context" }, entry.context),
      entry.id,
      entry.part,
      entry.position === null ? "—" : String(entry.position),
    ]),
    { class: "drift-top-kl" },
  );
}

function flipsTable(checkpoint: Checkpoint): HTMLElement {
  const { lost, gained, lost_total: lostTotal, gained_total: gainedTotal } = checkpoint.flipped;
  if (lostTotal + gainedTotal === 0) return h("p", { class: "note" }, "No probe changed its verdict.");
  const rows = (direction: string, list: DriftFlip[]) =>
    list.map((flip) => [direction, flip.id, h("span", { class: "flip-prompt" }, flip.prompt), verdict(flip.aligned_base), verdict(flip.aligned_target)]);
  const shown = lost.length + gained.length;
  return h(
    "div",
    {},
    h("p", { class: "note" }, `${lostTotal} probe(s) lost their alignment, ${gainedTotal} gained it${shown < lostTotal + gainedTotal ? ` (the first ${shown} by id listed)` : ""}.`),
    table(["flip", "probe", "prompt", "base", "fine-tuned"], [...rows("lost", lost), ...rows("gained", gained)], { class: "drift-flips" }),
  );
}

/** One block per checkpoint, in the order given: FL histogram, top-KL tokens, flipped probes. */
export function driftFindings(findings: DriftFindingsReport): HTMLElement[] {
  const labels = binLabels(findings.fl_edges);
  return findings.checkpoints.map((checkpoint, index) =>
    h(
      "div",
      { class: "drift-checkpoint", "data-model": checkpoint.model },
      h("h3", {}, `Checkpoint ${index + 1}: ${checkpoint.model}`),
      checkpoint.fl_texts > 0
        ? histogram(`FL per ${findings.part} text, ${checkpoint.model}`, labels.length, [{ name: checkpoint.model, counts: checkpoint.fl_counts }], {
            labels,
            axis: "FL (nats/token)",
            counted: "texts",
          })
        : h("p", { class: "note" }, `No ${findings.part} text has an FL for this checkpoint.`),
      checkpoint.fl_missing > 0 ? h("p", { class: "note" }, `${checkpoint.fl_missing} ${findings.part} text(s) without an FL (failed rows) are not counted.`) : null,
      h("h4", {}, "Largest KL(P_fine-tuned ‖ P_base), in context"),
      topKlTable(checkpoint),
      h("h4", {}, "Probes whose verdict flipped"),
      flipsTable(checkpoint),
    ),
  );
}
