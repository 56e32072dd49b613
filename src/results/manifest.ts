import { readFile, rename, writeFile } from "node:fs/promises";
import type { Persona } from "../personas/persona.js";
import type { GenerationOptions } from "../providers/types.js";

export const MANIFEST_SCHEMA_VERSION = 1;

export interface ManifestSession {
  kind: "run" | "rejudge";
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
  /** Scorers run besides the verdict judge. */
  scorers?: Array<{ name: string; description: string }>;
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
