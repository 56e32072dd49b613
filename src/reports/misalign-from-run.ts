import { UserError } from "../errors.js";
import type { Answer } from "../metrics/misalignment.js";
import { loadLatestRows, locateRunFolder } from "../results/load-run.js";
import { readManifest } from "../results/manifest.js";
import { folderFiles } from "../results/run-folder.js";
import { detectorReport, INTERVAL_NOTE, type MisalignEvalReport } from "../runner/misalign-eval.js";

export interface FromRunOptions {
  run: string;
  outputDir?: string;
  /** The judge's scorer in the run (default verdict). */
  scorer?: string;
  /** The column with the known label: a group_by tag or an item metadata field (default label). */
  truth?: string;
  /** The scorer value that means "flagged misaligned" (default 1: unsafe, attack success). */
  flagged?: number;
  bootstrap?: number;
  seed?: number;
}

const MISALIGNED = new Set(["misaligned", "1", "true", "yes", "unsafe", "harmful"]);
const ALIGNED = new Set(["aligned", "0", "false", "no", "safe", "harmless"]);
const DOMAIN_TAGS = ["safety", "value", "cultural"];

/**
 * The detection metrics for a judge already in a run: its stored verdicts against the known labels the run's
 * dataset carried (a group_by tag or an item metadata field). Rows whose label is missing or not a label are
 * counted and left out; a verdict that is not a number (the judge failed or could not be parsed) is unparseable.
 */
export async function misalignFromRun(options: FromRunOptions): Promise<MisalignEvalReport & { skipped_rows: number }> {
  const folder = locateRunFolder(options.run, options.outputDir);
  const manifest = await readManifest(folderFiles(folder).manifest);
  const scorer = options.scorer ?? "verdict";
  const truthColumn = options.truth ?? "label";
  const flagged = options.flagged ?? 1;
  const declared = manifest?.scorers?.map((s) => s.name) ?? [];
  if (declared.length > 0 && !declared.includes(scorer)) throw new UserError(`run ${options.run} has no scorer ${scorer}: it has ${declared.join(", ")} (--scorer)`);
  let skipped = 0;
  let judge: string | undefined;
  const rows = await loadLatestRows(folder, (row) => {
    const cell = row.tags?.[truthColumn] ?? row.item_metadata?.[truthColumn];
    const label = cell === undefined || cell === null ? "" : String(cell).trim().toLowerCase();
    const truth = MISALIGNED.has(label) ? 1 : ALIGNED.has(label) ? 0 : undefined;
    if (truth === undefined || row.status !== "ok") {
      skipped++;
      return undefined;
    }
    const score = row.scores?.[scorer];
    judge ??= score?.model;
    const verdict = typeof score?.value === "number" ? (score.value === flagged ? 1 : 0) : null;
    const domains: Record<string, string[]> = {};
    for (const tag of DOMAIN_TAGS) if (row.tags?.[tag]) domains[tag] = [row.tags[tag]];
    if (Object.keys(domains).length === 0 && row.category) domains.category = [row.category];
    return { test: row.test_id, epoch: row.epoch, model: row.model_slug, truth: truth as 0 | 1, verdict: verdict as 0 | 1 | null, raw: score?.raw ?? "", domains };
  });
  if (rows.length === 0) throw new UserError(`run ${options.run}: no row carries a known label in ${truthColumn} (a group_by tag or an item metadata field; --truth names it)`);
  // A unit is a test item with the response of one model; runs are the run's epochs.
  const units = new Map<string, number>();
  const runs = Math.max(...rows.map((row) => row.epoch));
  const answers = rows.map((row) => {
    const key = `${row.test}\u0000${row.model}`;
    if (!units.has(key)) units.set(key, units.size);
    const answer: Answer & { id: string; raw: string; domains: Record<string, string[]> } = {
      unit: units.get(key)!,
      run: row.epoch - 1,
      truth: row.truth,
      verdict: row.verdict,
      id: row.test,
      raw: row.raw,
      domains: row.domains,
    };
    return answer;
  });
  const bootstrap = { resamples: options.bootstrap ?? 1000, seed: options.seed ?? 0 };
  return {
    kind: "misalign-eval",
    source: folder,
    shape: "run",
    prompt_version: null,
    runs,
    responses: units.size,
    interval: INTERVAL_NOTE.replace("prompts", "responses"),
    bootstrap: { ...bootstrap, unit: "response (a test item's response from one model, across epochs)" },
    detectors: [detectorReport(judge ? `${judge} (scorer ${scorer})` : scorer, answers, runs, bootstrap)],
    folder: null,
    interrupted: false,
    errors: 0,
    failures: null,
    skipped_rows: skipped,
  };
}
