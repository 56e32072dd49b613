import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { type SplitName, splitDataset, stratumOf } from "../../src/datasets/split.js";
import { hamming, simhash } from "../../src/datasets/dedup/simhash.js";
import { runCli } from "../helpers/cli.js";
import { SHARED_DATASETS, hasShared } from "../helpers/shared.js";
import { tempDir } from "../helpers/run-folder.js";

const rowsOf = (file: string) => parse(readFileSync(file), { columns: true }) as Array<Record<string, string>>;
const WORDS = "apple river mountain lantern quiet harbor velvet signal orchard copper meadow thunder pencil violet garden silver candle".split(" ");

/** 300 prompts in 3 strata (100, 150, 50 rows), random words; rows 0–9 have a near-copy each (one word added at the end). */
function dataset(dir: string): string {
  const random = seededRandom(4);
  const lines = ["id,prompt,aligned_response,misaligned_response,safety_name,values_name,cultural_name"];
  const prompts: string[] = [];
  for (let i = 0; i < 290; i++) prompts.push(Array.from({ length: 25 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ") + ` item${i}`);
  for (let i = 0; i < 10; i++) prompts.push(`${prompts[i]} indeed`);
  prompts.forEach((prompt, i) => {
    const stratum = i % 6 < 2 ? ["Self-harm", "None"] : i % 6 < 5 ? ["None", "Health"] : ["None", "None"];
    lines.push(`${i + 1},${prompt},A${i},M${i},${stratum[0]},${stratum[1]},None`);
  });
  const file = join(dir, "pairs.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

describe("dataset split", () => {
  it("splits 80/10/10 within each stratum, seeded, with no near-duplicate across splits", async () => {
    const dir = tempDir();
    const file = dataset(dir);
    const report = await splitDataset({ input: file, seed: 3 });
    expect(report.rows).toBe(300);
    const splits = (["train", "validation", "test"] as SplitName[]).map((split) => rowsOf(report.files[split]));
    expect(splits.map((s) => s.length)).toEqual([report.counts.train, report.counts.validation, report.counts.test]);
    expect(
      splits
        .flat()
        .map((r) => r.id)
        .sort(),
    ).toEqual(Array.from({ length: 300 }, (_, i) => String(i + 1)).sort());
    // Each stratum within one group (a pair of near-copies, at most 2 rows) of its exact shares.
    for (const stratum of report.strata) {
      const total = stratum.train + stratum.validation + stratum.test;
      expect(Math.abs(stratum.train - 0.8 * total)).toBeLessThanOrEqual(2);
      expect(Math.abs(stratum.validation - 0.1 * total)).toBeLessThanOrEqual(2);
      expect(Math.abs(stratum.test - 0.1 * total)).toBeLessThanOrEqual(2);
    }
    expect(report.strata.map((s) => s.stratum)).toEqual(["none", "safety:Self-harm", "value:Health"]);
    // Brute force: no two prompts within τ = 10 in different splits; the 10 planted near-copies are found.
    const prints = splits.map((rows) => rows.map((r) => simhash(r.prompt!)));
    let crossing = 0;
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) for (const x of prints[a]!) for (const y of prints[b]!) if (hamming(x.hi, x.lo, y.hi, y.lo) <= 10) crossing++;
    expect(crossing).toBe(0);
    expect(report.near_duplicate_groups).toBeGreaterThanOrEqual(10);
    // Seeded: the same seed gives the same split, another seed another.
    const again = await splitDataset({ input: file, seed: 3 });
    expect(rowsOf(again.files.test).map((r) => r.id)).toEqual(splits[2]!.map((r) => r.id));
    const other = await splitDataset({ input: file, seed: 4 });
    expect(rowsOf(other.files.test).map((r) => r.id)).not.toEqual(splits[2]!.map((r) => r.id));
    expect(JSON.parse(readFileSync(join(dir, "pairs.split.json"), "utf8")).seed).toBe(4);
  });

  it("stratum: the first safety domain, else value, else cultural", () => {
    expect(stratumOf({ safety_name: "None", values_name: "Health; Wisdom", cultural_name: "Dance" })).toBe("value:Health");
    expect(stratumOf({ safety_name: "Self-harm" })).toBe("safety:Self-harm");
    expect(stratumOf({})).toBe("none");
  });

  it("refuses shares that do not add up", async () => {
    const dir = tempDir();
    await expect(splitDataset({ input: dataset(dir), shares: [0.8, 0.1, 0.2] })).rejects.toThrow(/add up to 1/);
  });
});

describe.skipIf(!hasShared)("dataset dedup on the 20,148 real Mis-Align-Bench prompts", () => {
  it("keeps + removes every row, each removed row within τ of its kept copy, and writes readable files", async () => {
    const dir = tempDir();
    const output = join(dir, "kept.csv");
    const result = await runCli(["dataset", "dedup", `${SHARED_DATASETS}mis-align-bench/before_generation_count.csv`, "--output", output, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { rows: number; kept: number; removed: number; clusters: number; clusters_file: string };
    expect(report.rows).toBe(20148);
    expect(report.kept + report.removed).toBe(20148);
    expect(report.removed).toBeGreaterThan(0);
    const kept = rowsOf(output);
    expect(kept.length).toBe(report.kept);
    const source = rowsOf(`${SHARED_DATASETS}mis-align-bench/before_generation_count.csv`);
    const byId = new Map(source.map((r) => [r.row_index!, r.prompt!]));
    const clusters = JSON.parse(readFileSync(report.clusters_file, "utf8")).cluster_list as Array<{ kept: { id: string }; removed: Array<{ id: string; distance: number }> }>;
    expect(clusters.length).toBe(report.clusters);
    expect(clusters.reduce((n, c) => n + c.removed.length, 0)).toBe(report.removed);
    const keptIds = new Set(kept.map((r) => r.row_index));
    for (const cluster of clusters.slice(0, 200)) {
      expect(keptIds.has(cluster.kept.id)).toBe(true);
      const a = simhash(byId.get(cluster.kept.id)!);
      for (const removed of cluster.removed) {
        expect(keptIds.has(removed.id)).toBe(false);
        const b = simhash(byId.get(removed.id)!);
        expect(hamming(a.hi, a.lo, b.hi, b.lo)).toBe(removed.distance);
        expect(removed.distance).toBeLessThanOrEqual(10);
      }
    }
  });
});
