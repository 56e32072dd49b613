import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError, UserError } from "../../errors.js";

// The calibration's state folder, so a killed calibration resumes where it stopped:
//   setup.json        what is being calibrated (run, experts, embedding model, mode, grid, seed): a resume
//                     with other inputs is refused rather than mixing two calibrations' numbers
//   embeddings.jsonl  {key, vector} per embedded text (sha256 of the text), appended batch by batch
//   settings.jsonl    one evaluated setting per line, appended as each is done
// Lines are appended whole and flushed by the OS on exit; a line cut short by a kill is dropped on resume.

export const STATE_FORMAT = "alignbench-calibration-state";

export class CalibrationState {
  private constructor(readonly folder: string) {}

  /** Opens (or starts) the state folder for `setup`; refuses a folder made for another setup. */
  static open(folder: string, setup: Record<string, unknown>): CalibrationState {
    mkdirSync(folder, { recursive: true });
    const file = join(folder, "setup.json");
    const wanted: Record<string, unknown> = { format: STATE_FORMAT, version: 1, ...setup };
    if (existsSync(file)) {
      let stored: Record<string, unknown>;
      try {
        stored = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      } catch (error) {
        throw new InputError(file, undefined, undefined, `not valid JSON (${(error as Error).message}): delete the folder to start over`);
      }
      const differing = Object.keys({ ...stored, ...wanted }).filter((key) => JSON.stringify(stored[key]) !== JSON.stringify(wanted[key]));
      if (differing.length > 0) {
        throw new UserError(`${folder} holds a calibration of other inputs (${differing.join(", ")} differ): pass another --state folder, or delete this one to start over`);
      }
    } else writeFileSync(file, `${JSON.stringify(wanted, null, 2)}\n`);
    return new CalibrationState(folder);
  }

  /** The records of a JSON-lines file; a last line cut short by a kill is dropped (and cut from the file). */
  private read<T>(name: string): T[] {
    const file = join(this.folder, name);
    if (!existsSync(file)) return [];
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    const records: T[] = [];
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!;
      if (line === "") continue;
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        const last = lines.slice(index + 1).every((rest) => rest === "");
        if (!last) throw new InputError(file, index + 1, undefined, "not a JSON line (the state is damaged: delete the folder to start over)");
        // Cut the torn line off, so the next append starts a line of its own.
        truncateSync(
          file,
          Buffer.byteLength(
            lines
              .slice(0, index)
              .map((kept) => `${kept}\n`)
              .join(""),
          ),
        );
      }
    }
    return records;
  }

  embeddings(): Map<string, number[]> {
    return new Map(this.read<{ key: string; vector: number[] }>("embeddings.jsonl").map(({ key, vector }) => [key, vector]));
  }

  addEmbeddings(entries: ReadonlyArray<{ key: string; vector: number[] }>): void {
    if (entries.length > 0) appendFileSync(join(this.folder, "embeddings.jsonl"), entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
  }

  settings<T>(): T[] {
    return this.read<T>("settings.jsonl");
  }

  addSetting(record: unknown): void {
    appendFileSync(join(this.folder, "settings.jsonl"), `${JSON.stringify(record)}\n`);
  }
}
