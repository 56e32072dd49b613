import { PART_TAG } from "../datasets/parts.js";
import type { ResultRow } from "../results/record.js";
import { loadLatestRows } from "../results/load-run.js";
import type { DriftRowFindings } from "./drift-outputs.js";

// The row-level findings of a drift run, per checkpoint: the probes whose verdict flipped (scores.alignment,
// metric flip), the positions with the largest KL (scores.fidelity, data.top_kl: each text's five largest)
// and each text's fidelity loss. Read once from the run folder after the run.

/** How many of the largest-KL positions drift.json keeps per checkpoint. */
export const TOP_KL_KEPT = 20;

type Finding = { model: string } & ({ kind: "flip"; entry: DriftRowFindings["flipped_probes"][number] } | { kind: "text"; entry: DriftRowFindings["texts"][number]; top: DriftRowFindings["top_kl"] });

function finding(row: ResultRow): Finding | undefined {
  const part = row.tags?.[PART_TAG] ?? "";
  const alignment = row.scores?.alignment;
  if (alignment?.metrics && typeof alignment.metrics.flip === "number" && alignment.metrics.flip !== 0) {
    const { flip, aligned_base: base, aligned_target: target } = alignment.metrics;
    return { model: row.model_slug, kind: "flip", entry: { id: row.test_id, flip, label: alignment.label, aligned_base: base ?? null, aligned_target: target ?? null } };
  }
  const fidelity = row.scores?.fidelity;
  if (!fidelity) return undefined;
  const listed = fidelity.data?.top_kl;
  const top = (Array.isArray(listed) ? listed : [])
    .filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null && typeof (item as { kl?: unknown }).kl === "number")
    .map((item) => ({ id: row.test_id, part, position: item.position, token: item.token, kl: item.kl as number, context: item.context }));
  return { model: row.model_slug, kind: "text", entry: { id: row.test_id, part, fl: fidelity.value, tokens: fidelity.metrics?.tokens ?? null }, top };
}

/** Each checkpoint's findings, read from the run folder's latest rows. */
export async function driftRowFindings(folder: string): Promise<Map<string, DriftRowFindings>> {
  const found = await loadLatestRows(folder, finding);
  const out = new Map<string, DriftRowFindings>();
  for (const item of found) {
    let entry = out.get(item.model);
    if (!entry) out.set(item.model, (entry = { flipped_probes: [], top_kl: [], texts: [] }));
    if (item.kind === "flip") entry.flipped_probes.push(item.entry);
    else {
      entry.texts.push(item.entry);
      entry.top_kl.push(...item.top);
    }
  }
  for (const entry of out.values()) {
    entry.top_kl.sort((a, b) => b.kl - a.kl);
    entry.top_kl.splice(TOP_KL_KEPT);
  }
  return out;
}
