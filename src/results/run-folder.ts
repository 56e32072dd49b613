import { join } from "node:path";

/** Where each file of a run lives: the one place that spells a run folder's layout. */
export function runFiles(outputDir: string, runId: string) {
  return folderFiles(join(outputDir, runId));
}

/** The files of the run folder at `folder`. */
export function folderFiles(folder: string) {
  return {
    folder,
    partials: join(folder, "partials.jsonl"),
    state: join(folder, "state.sqlite"),
    parquet: join(folder, "results.parquet"),
    csv: join(folder, "results.csv"),
    manifest: join(folder, "manifest.json"),
    summary: join(folder, "summary.json"),
    log: join(folder, "run.log"),
    lock: join(folder, "run.lock"),
    judgeEval: join(folder, "judge_eval.json"),
    /** The viewer's item index over results.parquet (item-index-file.ts). */
    itemIndex: join(folder, "items.index"),
  };
}

export type RunFiles = ReturnType<typeof runFiles>;

/** YYYYmmdd_HHMMss in local time, as the Python runner named its runs. */
export function defaultRunId(date = new Date()): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}_${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}
