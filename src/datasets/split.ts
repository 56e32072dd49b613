import { basename, dirname, extname, join } from "node:path";
import { seededRandom } from "../common/seeded-random.js";
import { UserError } from "../errors.js";
import { checkOutputFile, writeOutputFile } from "../io/output-file.js";
import { findNearPairs, planIndex } from "./dedup/near-index.js";
import { fingerprints, DEFAULT_TAU } from "./dedup/dedup.js";
import { DOMAIN_KINDS, domainLabels } from "./misalign-pairs.js";
import { NAME_COLUMNS } from "./savacu-files.js";
import { readTable, writeTable } from "./table-file.js";

export const SPLITS = ["train", "validation", "test"] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitOptions {
  input: string;
  field?: string;
  /** Shares of train, validation and test (default 0.8, 0.1, 0.1). */
  shares?: [number, number, number];
  seed?: number;
  tau?: number;
  /** Folder of the three files (default beside the input). */
  outputDir?: string;
}

export interface SplitReport {
  input: string;
  seed: number;
  tau: number;
  shares: [number, number, number];
  rows: number;
  /** Groups of near-duplicate rows kept in one split (groups of 2 or more). */
  near_duplicate_groups: number;
  counts: Record<SplitName, number>;
  /** Per stratum (the row's first safety label, else value, else cultural, else none): rows in each split. */
  strata: Array<{ stratum: string } & Record<SplitName, number>>;
  files: Record<SplitName, string>;
}

/** The stratum of a row: its first safety domain, else value, else cultural, else "none". */
export function stratumOf(row: Record<string, unknown>): string {
  for (const kind of DOMAIN_KINDS) {
    const labels = domainLabels(row[NAME_COLUMNS[kind]]);
    if (labels.length > 0) return `${kind}:${labels[0]}`;
  }
  return "none";
}

/** Union–find roots: the first row of each group. */
function groupsOf(texts: string[], tau: number): Int32Array {
  const parent = new Int32Array(texts.length).map((_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  const { his, los } = fingerprints(texts);
  findNearPairs(his, los, planIndex(tau), (a, b) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  });
  // Identical fingerprints are distance 0: the index's buckets pair them too, so no separate pass is needed.
  return parent.map((_, i) => find(i));
}

/**
 * Stratified, seeded train/validation/test split with no near-duplicate across splits: rows whose prompts are
 * within τ (SimHash, the dedup index) form a group that goes to one split whole; groups are shuffled within
 * their stratum (the first row's) and dealt to the splits so that each stratum's rows come closest to the
 * shares (largest remaining deficit first).
 */
export async function splitDataset(options: SplitOptions): Promise<SplitReport> {
  const field = options.field ?? "prompt";
  const shares = options.shares ?? [0.8, 0.1, 0.1];
  if (shares.some((s) => s < 0) || Math.abs(shares[0] + shares[1] + shares[2] - 1) > 1e-9) throw new UserError(`the split shares must be 0 or more and add up to 1, not ${shares.join(" + ")}`);
  const seed = options.seed ?? 0;
  const tau = options.tau ?? DEFAULT_TAU;
  const { rows, columns } = await readTable(options.input, [field]);
  const folder = options.outputDir ?? dirname(options.input);
  const stem = basename(options.input, extname(options.input));
  const extension = extname(options.input).toLowerCase() === ".jsonl" ? ".jsonl" : ".csv";
  const files = Object.fromEntries(SPLITS.map((split) => [split, join(folder, `${stem}.${split}${extension}`)])) as Record<SplitName, string>;
  for (const file of Object.values(files)) checkOutputFile(file);
  const roots = groupsOf(
    rows.map((row) => row.value[field] as string),
    tau,
  );
  const groups = new Map<number, number[]>();
  roots.forEach((root, i) => {
    const list = groups.get(root) ?? [];
    list.push(i);
    groups.set(root, list);
  });
  const strata = new Map<string, number[][]>();
  for (const [root, members] of groups) {
    const stratum = stratumOf(rows[root]!.value);
    const list = strata.get(stratum) ?? [];
    list.push(members);
    strata.set(stratum, list);
  }
  const random = seededRandom(seed);
  const assigned = new Array<SplitName>(rows.length);
  const perStratum: SplitReport["strata"] = [];
  for (const stratum of [...strata.keys()].sort()) {
    const list = strata.get(stratum)!;
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    const total = list.reduce((n, g) => n + g.length, 0);
    const filled: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
    for (const group of list) {
      // The split furthest below its share of the stratum after this group (ties: train, validation, test).
      let best: SplitName = "train";
      let bestGap = -Infinity;
      SPLITS.forEach((split, k) => {
        const gap = shares[k]! * total - filled[split];
        if (gap > bestGap + 1e-12) {
          best = split;
          bestGap = gap;
        }
      });
      filled[best] += group.length;
      for (const row of group) assigned[row] = best;
    }
    perStratum.push({ stratum, ...filled });
  }
  const counts: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
  for (const split of SPLITS) {
    const chosen = rows.filter((_, i) => assigned[i] === split).map((row) => row.value);
    counts[split] = chosen.length;
    writeTable(files[split], columns, chosen);
  }
  const report: SplitReport = {
    input: options.input,
    seed,
    tau,
    shares,
    rows: rows.length,
    near_duplicate_groups: [...groups.values()].filter((g) => g.length > 1).length,
    counts,
    strata: perStratum,
    files,
  };
  writeOutputFile(join(folder, `${stem}.split.json`), JSON.stringify(report, null, 1) + "\n");
  return report;
}
