import { utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRunReport } from "../../src/reports/report-data.js";
import { folderFiles } from "../../src/results/run-folder.js";
import { runStandin, writeDriftInputs } from "../helpers/drift-standin.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir } from "../helpers/run-folder.js";

// A drift run's report carries its findings (src/reports/drift-findings.ts) whichever way the report is
// built: from the finished run's summary and item index plus one pass over the rows, or from every row in
// one pass (a run whose partials changed since it finalised). Values from the stand-ins
// (test/helpers/drift-standin-cli.mjs): checkpoint K's in-domain FL is K/10 on every text, and its first K
// probes lose their alignment.

describe("drift findings in the report data", () => {
  let mock: MockLlm;
  let folder: string;
  beforeAll(async () => {
    mock = await startMockLlm(() => ({ reply: "An answer." }));
    const dir = tempDir();
    const inputs = writeDriftInputs(dir, 3, 5);
    const ran = await runStandin(["drift", "--base", "mock-base", "--finetuned", "mock-ckpt-2,mock-ckpt-5", ...inputs, "--base-url", mock.url, "--run-id", "r", "--no-progress", "--output-dir", dir]);
    expect(ran.code, ran.stderr).toBe(0);
    folder = join(dir, "r");
  }, 120_000);
  afterAll(async () => {
    await mock?.close();
  });

  it("is the same from the item index and from every row", async () => {
    const stored = (await buildRunReport(folder)).drift;
    // Partials newer than summary.json and items.index: the report reads every row instead.
    const later = new Date(Date.now() + 60_000);
    utimesSync(folderFiles(folder).partials, later, later);
    const scanned = (await buildRunReport(folder)).drift;
    expect(scanned).toEqual(stored);
    expect(stored!.part).toBe("in_domain");
    // Largest in-domain FL 0.5 → bins of 0.025 nats up to 0.5: FL 0.2 in bin 8, FL 0.5 in the last.
    expect(stored!.fl_edges.at(-1)).toBe(0.5);
    expect(stored!.checkpoints.map((entry) => [entry.model, entry.fl_texts, entry.fl_counts.indexOf(3)])).toEqual([
      ["mock-ckpt-2", 3, 8],
      ["mock-ckpt-5", 3, 19],
    ]);
    expect(stored!.checkpoints.map((entry) => [entry.flipped.lost.map((flip) => flip.id), entry.flipped.lost_total, entry.flipped.gained_total])).toEqual([
      [["probes/p0", "probes/p1"], 2, 0],
      [["probes/p0", "probes/p1", "probes/p2", "probes/p3", "probes/p4"], 5, 0],
    ]);
    expect(stored!.checkpoints[0]!.flipped.lost[0]).toEqual({ id: "probes/p0", prompt: "Probe 0?", aligned_base: 1, aligned_target: 0 });
    // 6 texts, one position each: the out-of-domain ones (KL 2K/10 + 0.01) first.
    expect(stored!.checkpoints[0]!.top_kl.map((entry) => [entry.id, entry.kl])).toEqual([
      ["ood/ood-0", expect.closeTo(0.41, 12)],
      ["ood/ood-1", expect.closeTo(0.41, 12)],
      ["ood/ood-2", expect.closeTo(0.41, 12)],
      ["in_domain/in-0", expect.closeTo(0.21, 12)],
      ["in_domain/in-1", expect.closeTo(0.21, 12)],
      ["in_domain/in-2", expect.closeTo(0.21, 12)],
    ]);
  }, 60_000);
});
