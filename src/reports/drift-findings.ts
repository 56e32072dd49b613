import { naturalCompare } from "../common/natural-order.js";
import { PART_TAG } from "../datasets/parts.js";
import { loadLatestRows } from "../results/load-run.js";
import type { Manifest } from "../results/manifest.js";
import type { ResultRow } from "../results/record.js";
import { FIDELITY_METRIC } from "./drift-outputs.js";
import { TOP_KL_KEPT } from "./drift-rows.js";
import type { DriftFindingsReport, DriftFlip, DriftTopKl } from "./report-types.js";

// What the report's drift section shows beside the curve, per checkpoint, read from the run's rows in one
// pass: the distribution of per-text fidelity loss over the in-domain texts (a histogram on bins shared by
// all checkpoints, so their shapes compare), the positions with the largest KL with the text before them,
// and the probes whose verdict flipped, both ways. Held bounded: per text one number, per checkpoint a few
// dozen tokens and probes (totals counted); every string clipped.

/** Histogram bins of per-text FL. */
export const FL_BINS = 20;
/** Flipped probes listed per checkpoint and direction (all of them are counted). */
export const FLIPS_LISTED = 50;
const PROMPT_CHARS = 160;
const CONTEXT_CHARS = 80;
const TOKEN_CHARS = 40;

const clipStart = (text: string, length: number) => {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
};
// The context is the text before the token: its end is what matters.
const clipEnd = (text: string, length: number) => (text.length > length ? `…${text.slice(text.length - length + 1)}` : text);
const asText = (value: unknown) => (typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value));

/** 1, 2, 2.5 or 5 times a power of ten, at least `value`: a histogram's upper edge a reader can take in. */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= value * (1 - 1e-12))!;
  return step * power;
}

/** Keeps the `limit` smallest by `order` of what it is offered, sorting only now and then. */
class Smallest<T> {
  private items: T[] = [];
  constructor(
    private readonly limit: number,
    private readonly order: (a: T, b: T) => number,
  ) {}
  offer(item: T): void {
    this.items.push(item);
    if (this.items.length > this.limit * 4) this.trim();
  }
  list(): T[] {
    this.trim();
    return this.items;
  }
  private trim(): void {
    this.items.sort(this.order);
    this.items.length = Math.min(this.items.length, this.limit);
  }
}

interface Checkpoint {
  fl: number[];
  missing: number;
  topKl: Smallest<DriftTopKl>;
  flips: { lost: Smallest<DriftFlip>; gained: Smallest<DriftFlip> };
  totals: { lost: number; gained: number };
}

/** The in-domain part's name: the drift_fidelity_dsi option `in_domain_part` where the run sets it. */
export function inDomainPart(manifest: Pick<Manifest, "config">): string {
  const listed = manifest.config.suite_metrics;
  for (const entry of Array.isArray(listed) ? listed : []) {
    const options = typeof entry === "object" && entry !== null && (entry as { name?: unknown }).name === FIDELITY_METRIC ? (entry as { options?: Record<string, unknown> }).options : undefined;
    if (typeof options?.in_domain_part === "string") return options.in_domain_part;
  }
  return "in_domain";
}

/** Reads a drift run's rows one at a time (`add`) and gives the report's findings per checkpoint (`build`). */
export class DriftFindings {
  private readonly checkpoints = new Map<string, Checkpoint>();
  constructor(private readonly part: string) {}

  private of(model: string): Checkpoint {
    let entry = this.checkpoints.get(model);
    const byId = (a: DriftFlip, b: DriftFlip) => naturalCompare(a.id, b.id);
    if (!entry)
      this.checkpoints.set(
        model,
        (entry = {
          fl: [],
          missing: 0,
          topKl: new Smallest(TOP_KL_KEPT, (a, b) => b.kl - a.kl || naturalCompare(a.id, b.id) || (a.position ?? 0) - (b.position ?? 0)),
          flips: { lost: new Smallest(FLIPS_LISTED, byId), gained: new Smallest(FLIPS_LISTED, byId) },
          totals: { lost: 0, gained: 0 },
        }),
      );
    return entry;
  }

  add(row: ResultRow): void {
    const part = row.tags?.[PART_TAG] ?? "";
    const fidelity = row.scores?.fidelity;
    if (fidelity) {
      const entry = this.of(row.model_slug);
      if (part === this.part) {
        if (typeof fidelity.value === "number" && Number.isFinite(fidelity.value)) entry.fl.push(fidelity.value);
        else entry.missing++;
      }
      const listed = fidelity.data?.top_kl;
      for (const item of Array.isArray(listed) ? listed : []) {
        const { position, token, kl, context } = (item ?? {}) as Record<string, unknown>;
        // A KL of 0 is no change: a base measured against itself lists nothing rather than arbitrary positions.
        if (typeof kl !== "number" || !Number.isFinite(kl) || kl <= 0) continue;
        entry.topKl.offer({
          id: row.test_id,
          part,
          position: typeof position === "number" ? position : null,
          token: clipStart(asText(token), TOKEN_CHARS),
          kl,
          context: clipEnd(asText(context), CONTEXT_CHARS),
        });
      }
    }
    const alignment = row.scores?.alignment?.metrics;
    const flip = alignment?.flip;
    if (typeof flip === "number" && flip !== 0) {
      const direction = flip < 0 ? "lost" : "gained";
      const entry = this.of(row.model_slug);
      const user = row.messages.find((message) => message.role === "user") ?? row.messages[0];
      entry.totals[direction]++;
      entry.flips[direction].offer({
        id: row.test_id,
        prompt: clipStart(asText(user?.content), PROMPT_CHARS),
        aligned_base: alignment!.aligned_base ?? null,
        aligned_target: alignment!.aligned_target ?? null,
      });
    }
  }

  /** Per checkpoint, in `order` (the checkpoints as given); a checkpoint with no drift rows is left out. */
  build(order: readonly string[]): DriftFindingsReport {
    const all = [...this.checkpoints.values()].flatMap((entry) => entry.fl);
    const upper = niceCeiling(all.reduce((max, value) => Math.max(max, value), 0));
    const edges = Array.from({ length: FL_BINS + 1 }, (_value, index) => (upper * index) / FL_BINS);
    const models = [...order.filter((model) => this.checkpoints.has(model)), ...[...this.checkpoints.keys()].filter((model) => !order.includes(model)).sort(naturalCompare)];
    return {
      part: this.part,
      fl_edges: edges,
      checkpoints: models.map((model) => {
        const entry = this.checkpoints.get(model)!;
        const counts = new Array<number>(FL_BINS).fill(0);
        // Equal bins, each closed below; the last one closed above too. A rounding-negative KL counts as 0.
        for (const value of entry.fl) counts[Math.min(FL_BINS - 1, Math.max(0, Math.floor((value / upper) * FL_BINS)))]!++;
        return {
          model,
          fl_counts: counts,
          fl_texts: entry.fl.length,
          fl_missing: entry.missing,
          top_kl: entry.topKl.list(),
          flipped: { lost: entry.flips.lost.list(), gained: entry.flips.gained.list(), lost_total: entry.totals.lost, gained_total: entry.totals.gained },
        };
      }),
    };
  }
}

/** A drift run's findings read in a pass of their own over its latest rows; undefined for a run without a base role. */
export async function readDriftFindings(folder: string, manifest: Pick<Manifest, "config" | "models" | "roles">): Promise<DriftFindingsReport | undefined> {
  if (!manifest.roles?.base) return undefined;
  const findings = new DriftFindings(inDomainPart(manifest));
  await loadLatestRows(folder, (row) => findings.add(row));
  return findings.build(manifest.models.map((model) => model.address));
}
