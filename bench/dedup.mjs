#!/usr/bin/env node
// Speed and recall of `dataset dedup` (SimHash + permuted-table index) on 400,000 prompts: the 20,148 real
// Mis-Align-Bench prompts plus synthetic near-copies of them (1–3 words replaced, dropped or inserted) and
// unrelated synthetic prompts made of the real vocabulary. Not a test: figures for the README.
//
//   npm run build && node bench/dedup.mjs [N=400000]
//
// Prints the time to fingerprint (read the texts + hash: the limit any SimHash dedup pays), the time of the
// index and clustering, their ratio, and the recall of the pairs within τ against a brute-force pass of
// 2,000 sampled fingerprints over all of them; and the time of the whole `dataset dedup` work on the same
// prompts as a CSV file (read, dedup, write).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { dedupFingerprints, fingerprints } from "../dist/datasets/dedup/dedup.js";
import { dedupFile } from "../dist/datasets/dedup/dedup-file.js";
import { findNearPairs, planIndex } from "../dist/datasets/dedup/near-index.js";
import { hamming, words } from "../dist/datasets/dedup/simhash.js";
import { seededRandom } from "../dist/common/seeded-random.js";

const N = Number(process.argv[2] ?? 400_000);
const TAU = 10;
const SAMPLE = 2_000;
const csv = fileURLToPath(new URL("../../shared/datasets/mis-align-bench/before_generation_count.csv", import.meta.url));
const real = parse(readFileSync(csv), { columns: true }).map((row) => row.prompt);
const vocabulary = [...new Set(real.flatMap((text) => words(text)))];
const random = seededRandom(42);
const pick = (list) => list[Math.floor(random() * list.length)];

function nearCopy(text) {
  const list = text.split(/\s+/);
  const edits = 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * list.length);
    const kind = random();
    if (kind < 0.4) list[at] = pick(vocabulary);
    else if (kind < 0.7 && list.length > 3) list.splice(at, 1);
    else list.splice(at, 0, pick(vocabulary));
  }
  return list.join(" ");
}
function unrelated() {
  const length = 10 + Math.floor(random() * 40);
  return Array.from({ length }, () => pick(vocabulary)).join(" ");
}

const texts = [...real];
while (texts.length < N) texts.push(random() < 0.5 ? nearCopy(pick(real)) : unrelated());
console.log(`${texts.length.toLocaleString("en")} prompts (${real.length.toLocaleString("en")} real), τ = ${TAU}`);

let start = performance.now();
const { his, los } = fingerprints(texts);
const hashMs = performance.now() - start;
start = performance.now();
const result = dedupFingerprints(his, los, { tau: TAU });
const indexMs = performance.now() - start;
const totalS = (hashMs + indexMs) / 1000;
console.log(`fingerprints: ${(hashMs / 1000).toFixed(2)} s (the limit: hashing alone)`);
console.log(
  `index + clusters: ${(indexMs / 1000).toFixed(2)} s — ${result.index.tables} tables, ${result.index.candidates.toLocaleString("en")} candidates, ${result.index.pairs_within_tau.toLocaleString("en")} pairs ≤ τ`,
);
console.log(`total ${totalS.toFixed(2)} s (${totalS < 30 ? "under" : "OVER"} the 30 s bar), ${(totalS / (hashMs / 1000)).toFixed(2)}× the hashing-alone limit`);
console.log(`kept ${result.kept.toLocaleString("en")}, removed ${result.removed.toLocaleString("en")} in ${result.clusters.length.toLocaleString("en")} clusters`);

// The whole command's work on a CSV of the same prompts: reading the file, deduplicating, writing the kept rows and clusters.
const folder = mkdtempSync(join(tmpdir(), "dedup-bench-"));
const csvFile = join(folder, "prompts.csv");
writeFileSync(csvFile, `id,prompt\n${texts.map((t, i) => `${i + 1},"${t.replace(/"/g, '""')}"`).join("\n")}\n`);
start = performance.now();
const fileReport = await dedupFile({ input: csvFile, tau: TAU });
const fileS = (performance.now() - start) / 1000;
console.log(
  `dataset dedup on a ${texts.length.toLocaleString("en")}-row CSV (read, dedup, write kept rows + clusters): ${fileS.toFixed(2)} s (${fileS < 30 ? "under" : "OVER"} the 30 s bar), ${(fileS / (hashMs / 1000)).toFixed(2)}× the hashing-alone limit; kept ${fileReport.kept.toLocaleString("en")}`,
);
rmSync(folder, { recursive: true, force: true });

// Recall: unique fingerprints, 2,000 sampled; brute force over all; the index's pairs that touch the sample.
const seen = new Set();
const unique = [];
for (let i = 0; i < his.length; i++) {
  const key = `${his[i]}:${los[i]}`;
  if (!seen.has(key)) {
    seen.add(key);
    unique.push(i);
  }
}
const uHis = Uint32Array.from(unique, (i) => his[i]);
const uLos = Uint32Array.from(unique, (i) => los[i]);
const sampleRandom = seededRandom(7);
const sample = new Set();
while (sample.size < Math.min(SAMPLE, unique.length)) sample.add(Math.floor(sampleRandom() * unique.length));
const found = new Set();
findNearPairs(uHis, uLos, planIndex(TAU), (a, b) => {
  if (sample.has(a) || sample.has(b)) found.add(`${a}:${b}`);
});
start = performance.now();
const byDistance = new Map();
let truth = 0;
let hit = 0;
const counted = new Set();
for (const a of sample) {
  for (let b = 0; b < uHis.length; b++) {
    if (b === a) continue;
    const d = hamming(uHis[a], uLos[a], uHis[b], uLos[b]);
    if (d > TAU) continue;
    const key = a < b ? `${a}:${b}` : `${b}:${a}`;
    if (counted.has(key)) continue;
    counted.add(key);
    truth++;
    const ok = found.has(key);
    if (ok) hit++;
    const entry = byDistance.get(d) ?? [0, 0];
    entry[0]++;
    if (ok) entry[1]++;
    byDistance.set(d, entry);
  }
}
const bruteMs = performance.now() - start;
console.log(`recall on ${sample.size} sampled fingerprints (brute force ${(bruteMs / 1000).toFixed(1)} s): ${hit}/${truth} = ${((100 * hit) / Math.max(1, truth)).toFixed(2)}% (bar ≥ 99%)`);
console.log(
  `  by distance: ${[...byDistance]
    .sort((a, b) => a[0] - b[0])
    .map(([d, [t, h]]) => `${d}: ${h}/${t}`)
    .join(", ")}`,
);
console.log(`  worst-case bound at d = τ: ${(result.index.recall_at_tau * 100).toFixed(2)}% (${result.index.permutations} permutations)`);
