import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import type { TranscriptCall } from "../results/record.js";

// Progress inside a work item. The run store records finished items only, so a long conversation (a PAIR
// attack of 20 rounds, a crescendo of 10 turns) killed on its last turn would start over and pay for every
// call again. A plan that names its calls (`step` in PlanCall: "stream 2 round 3 target") gets each finished
// call appended here, one JSON line, as soon as it returns; a resumed item replays a named call from this
// file instead of calling the model again, when the same role was asked exactly the same thing (messages,
// options, response format: the request's hash). A plan whose answers are replayed takes the same path, so it
// asks the same next questions and the conversation continues where it stopped. A torn last line (the
// process killed mid-write) is ignored: that call is made again. The file lives in the run folder
// (turns.jsonl) and grows until the run finishes with every item done, when it is deleted (finished items'
// lines are never read again).

/** The journal's name in the run folder. */
export const TURN_JOURNAL_FILE = "turns.jsonl";

interface JournalLine {
  key: string;
  step: string;
  hash: string;
  call: TranscriptCall;
}

export class TurnJournal {
  private readonly entries = new Map<string, JournalLine>();

  private constructor(private readonly file: string) {}

  /** Opens (or starts) the journal at `file`, reading what an earlier session of the run recorded. */
  static open(file: string): TurnJournal {
    const journal = new TurnJournal(file);
    if (!existsSync(file)) return journal;
    for (const text of readFileSync(file, "utf8").split("\n")) {
      if (text.trim() === "") continue;
      let line: JournalLine;
      try {
        line = JSON.parse(text) as JournalLine;
      } catch {
        continue; // the line a kill cut short
      }
      if (typeof line?.key === "string" && typeof line.step === "string" && line.call) journal.entries.set(entryKey(line.key, line.step), line);
    }
    return journal;
  }

  /** The call recorded for this item's step, when it was asked exactly this request. */
  lookup(key: string, step: string, hash: string): TranscriptCall | undefined {
    const line = this.entries.get(entryKey(key, step));
    return line && line.hash === hash ? line.call : undefined;
  }

  /** Records a finished call (appended at once: the OS has it even if the process is killed next). */
  record(key: string, step: string, hash: string, call: TranscriptCall): void {
    const line: JournalLine = { key, step, hash, call };
    this.entries.set(entryKey(key, step), line);
    appendFileSync(this.file, JSON.stringify(line) + "\n");
  }

  /** Deletes the file: once every item of the run is done, nothing in it will be read again. */
  remove(): void {
    rmSync(this.file, { force: true });
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function entryKey(key: string, step: string): string {
  return `${key}\u0000${step}`;
}

/** What identifies a request: the role and everything sent. */
export function requestHash(role: string, request: unknown): string {
  return createHash("sha256").update(role).update("\u0000").update(JSON.stringify(request)).digest("hex");
}
