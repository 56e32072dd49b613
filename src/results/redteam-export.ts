import { readFileSync } from "node:fs";
import { InputError, UserError } from "../errors.js";
import { writeOutputFile } from "../io/output-file.js";
import { type AttackRecord, attackOfRow, type RedTeamSummary, summariseAttacks } from "../metrics/redteam-summary.js";
import { loadLatestRows } from "./load-run.js";
import { readManifest } from "./manifest.js";
import { folderFiles } from "./run-folder.js";

// red_team_results.json: a red-team run as one portable file — who attacked whom with what, every attack
// with every turn (what the target was sent, what it answered, the judge's grade), and the summary at the
// run's threshold. `alignbench analyze` reads it, or a run folder, the same way.

export const EXPORT_FORMAT = "alignbench-redteam";
export const EXPORT_VERSION = 1;

export interface RedTeamExport {
  format: typeof EXPORT_FORMAT;
  version: number;
  run_id: string;
  created_at: string;
  threshold: number;
  models: string[];
  roles: Record<string, string>;
  strategies: string[];
  summary: RedTeamSummary;
  attacks: AttackRecord[];
}

/** The attacks of a run folder and what it was run with. */
export async function exportOfRun(folder: string): Promise<RedTeamExport> {
  const manifest = await readManifest(folderFiles(folder).manifest);
  if (!manifest) throw new UserError(`${folder}: no manifest.json: not a run folder`);
  const attacks = await loadLatestRows(folder, attackOfRow);
  if (attacks.length === 0) throw new UserError(`${folder}: no red-team rows (was it run with plan redteam? alignbench redteam --help)`);
  const config = manifest.config as { roles?: Record<string, string>; plan_options?: { success_threshold?: number; strategies?: string[] }; models?: string[] };
  const threshold = config.plan_options?.success_threshold ?? 0.7;
  const roles = Object.fromEntries(Object.entries(config.roles ?? {}).filter(([role]) => role !== "target"));
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    run_id: manifest.run_id,
    created_at: new Date().toISOString(),
    threshold,
    models: [...new Set(attacks.map((attack) => attack.model))],
    roles,
    strategies: [...new Set(attacks.map((attack) => attack.strategy))],
    summary: summariseAttacks(attacks, threshold),
    attacks,
  };
}

export function writeExport(file: string, data: RedTeamExport): void {
  writeOutputFile(file, JSON.stringify(data, null, 1) + "\n");
}

/** Reads an export, checking its shape: a wrong file is an error naming the field, never a crash later. */
export function readExport(file: string): RedTeamExport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError(file, undefined, undefined, `not JSON (${(error as Error).message})`);
  }
  const record = data as Partial<RedTeamExport> | null;
  if (!record || typeof record !== "object" || record.format !== EXPORT_FORMAT) throw new InputError(file, undefined, "format", `not a red-team export (expected format "${EXPORT_FORMAT}")`);
  if (typeof record.version !== "number" || record.version > EXPORT_VERSION)
    throw new InputError(file, undefined, "version", `version ${String(record.version)} is not one this alignbench reads (≤ ${EXPORT_VERSION})`);
  if (!Array.isArray(record.attacks)) throw new InputError(file, undefined, "attacks", "a list of attacks");
  record.attacks.forEach((attack, index) => {
    const where = `attacks[${index}]`;
    if (!attack || typeof attack !== "object") throw new InputError(file, undefined, where, "an object");
    for (const field of ["key", "model", "goal", "category", "strategy", "status"] as const) if (typeof attack[field] !== "string") throw new InputError(file, undefined, `${where}.${field}`, "text");
    if (!Array.isArray(attack.turns)) throw new InputError(file, undefined, `${where}.turns`, "a list of turns");
    attack.turns.forEach((turn, turnIndex) => {
      const at = `${where}.turns[${turnIndex}]`;
      if (!turn || typeof turn.query !== "number" || typeof turn.round !== "number" || typeof turn.response !== "string" || !Array.isArray(turn.sent))
        throw new InputError(file, undefined, at, "a turn {query, round, sent, response, grade}");
      const status = turn.grade?.status;
      if (status !== "graded" && status !== "judge_refused" && status !== "judge_unparseable")
        throw new InputError(file, undefined, `${at}.grade.status`, "graded, judge_refused or judge_unparseable");
      if (status === "graded" && (typeof turn.grade.severity !== "number" || turn.grade.severity < 0 || turn.grade.severity > 1))
        throw new InputError(file, undefined, `${at}.grade.severity`, "a number from 0 to 1");
    });
  });
  return record as RedTeamExport;
}
