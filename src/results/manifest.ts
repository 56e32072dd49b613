import { readFile, rename, writeFile } from "node:fs/promises";
import type { Persona } from "../personas/persona.js";
import type { GenerationOptions } from "../providers/types.js";
import { builtinDeclaration } from "../scorers/registry.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import { VERDICT_DECLARATION } from "../scorers/verdict.js";
import { BASE_DIMENSIONS } from "./record.js";

export const MANIFEST_SCHEMA_VERSION = 2;

export interface ManifestSession {
  kind: "run" | "rejudge" | "judge-eval";
  /** A rejudge's named scoring: its scores sit beside the run's as `NAME/scorer`. */
  scoring?: string;
  started_at: string;
  ended_at?: string;
  interrupted?: boolean;
  items_finished?: number;
  judge_model?: string | null;
}

/** manifest.json: everything needed to know how a run's numbers were produced. */
export interface Manifest {
  schema_version: number;
  tool: { name: "alignbench"; version: string };
  run_id: string;
  created_at: string;
  updated_at: string;
  sessions: ManifestSession[];
  /** The effective config (flags and file merged), with paths made absolute. Holds no secrets. */
  config: Record<string, unknown>;
  /** `source`: the hub name or URL the file was downloaded from. */
  dataset: { path: string; source?: string; format: string; sha256: string; valid_rows: number; bad_rows: number; limit: number | null };
  models: Array<{ address: string; provider: string; model_id: string; options: GenerationOptions; max_concurrency: number | null; rate_limit_rps: number | null }>;
  personas: Persona[];
  judge: {
    model: string;
    prompt: string;
    prompt_template: string;
    schema: Record<string, unknown>;
    structured_output: string;
    repair_attempts: number;
    options: GenerationOptions;
  } | null;
  /** The run's scorers (the verdict judge is the scorer `verdict` from format 2 on; before, it was `judge`). */
  scorers?: Array<{ name: string; description: string }>;
  /** What each scorer measures (kinds, directions, metrics); absent in folders written by 0.1. */
  scorer_declarations?: ScorerDeclaration[];
  /** The plan each work item ran (absent in 0.1 folders: generate). */
  plan?: string;
  /** The work-item dimensions, in key order (absent in 0.1 folders: test, persona, model, epoch). */
  dimensions?: string[];
  /** Models in roles other than the model under test (judge, attacker, baseline…). */
  roles?: Record<string, { address: string; provider: string; model_id: string; options: GenerationOptions }>;
  environment: { node: string; platform: string };
}

export async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a manifest. */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeFile(file + ".tmp", JSON.stringify(value, null, 2) + "\n");
  await rename(file + ".tmp", file);
}

/**
 * What a run's scorers measure. Folders written by 0.1 name their scorers without declaring them, and
 * ran the verdict judge apart (whenever they had a judge and no --scorers, or `verdict` among them): their
 * declarations are the built-in ones, the verdict judge's first.
 */
export function scorerDeclarationsOf(manifest: Pick<Manifest, "scorer_declarations" | "scorers" | "judge" | "config">): ScorerDeclaration[] {
  if (manifest.scorer_declarations) return manifest.scorer_declarations;
  const named = (manifest.config.scorers as string[] | undefined) ?? [];
  const verdict = manifest.judge !== null && (named.length === 0 || named.includes("verdict"));
  const declarations: ScorerDeclaration[] = verdict ? [VERDICT_DECLARATION] : [];
  for (const { name, description } of manifest.scorers ?? []) {
    declarations.push(builtinDeclaration(name) ?? { name, description, metrics: [{ name, label: name, kind: { type: "rate" }, bad: "none" }] });
  }
  return declarations;
}

/** A run's work-item dimensions in key order (0.1 folders: test, persona, model, epoch). */
export function dimensionsOf(manifest: Pick<Manifest, "dimensions">): string[] {
  return manifest.dimensions ?? [...BASE_DIMENSIONS];
}
