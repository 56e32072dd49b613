import { constants } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { UserError } from "../errors.js";
import type { Persona } from "../personas/persona.js";
import type { GenerationOptions } from "../providers/types.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import { REDACTED, redactUrl } from "../providers/url.js";
import type { RunPins } from "./pins.js";
import { parseJson, validateManifest } from "./record-schemas.js";
import { asWriteFailure, removeQuietly } from "./write-failure.js";

export const MANIFEST_SCHEMA_VERSION = 2;

export interface ManifestSession {
  kind: "run" | "rejudge" | "judge-eval" | "misalign-eval" | "dataset";
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
  dataset: ManifestDataset & {
    /** A run over several datasets: each part's file (`path` is then the parts' paths, `format` "parts", `sha256` one hash over the parts'). */
    parts?: Array<ManifestDataset & { name: string }>;
  };
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
  /** Work items per dataset row: the product of the dimensions' sizes (absent in 0.1 folders: models × personas × epochs). */
  items_per_test?: number;
  /** Models in roles other than the model under test (judge, attacker, baseline…). */
  roles?: Record<string, { address: string; provider: string; model_id: string; options: GenerationOptions }>;
  environment: { node: string; platform: string };
  /** Every setting that can change a score, one value (or sha256) per key (pins.ts); absent before 0.2. */
  pins?: RunPins;
  /** A run made with --offline: what the guard allowed and refused (offline-guard.ts). */
  offline?: OfflineRecord;
}

/** What --offline allowed and refused during a run's sessions. */
export interface OfflineRecord {
  /** True when every session of the run ran offline and no connection to another host was attempted. */
  verified: boolean;
  /** The hosts allowed besides loopback (`--allow-host`). */
  allowed_hosts: string[];
  /** Every host:port a connection was made to (loopback, or an allowed host). */
  hosts_contacted: string[];
  /** Connections refused: to where, when, and what tried. */
  refused: Array<{ host: string; port: number | null; at: string; by: string }>;
}

/**
 * A run's manifest, checked (record-schemas.ts): undefined when the folder has none; a UserError naming the
 * file and field when it is damaged, or when a newer alignbench wrote it.
 */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    // Never through a symbolic link (run-links.ts): O_NOFOLLOW makes opening one fail with ELOOP.
    text = await readFile(file, { encoding: "utf8", flag: constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new UserError(`${file} is a symbolic link: alignbench does not follow links in run folders (copy the file in its place)`);
    throw error;
  }
  return validateManifest(file, parseJson(file, undefined, text), MANIFEST_SCHEMA_VERSION);
}

/** Written to a temporary file and renamed, so a crash never leaves half a manifest. */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  try {
    await writeFile(file + ".tmp", JSON.stringify(value, null, 2) + "\n");
    await rename(file + ".tmp", file);
  } catch (error) {
    // The previous file stays whole; the half-written temporary one goes.
    removeQuietly(file + ".tmp");
    throw asWriteFailure(file, error);
  }
}

/**
 * The effective config as the manifest keeps it: every header value, and the userinfo and query values of
 * every URL, replaced structurally (the names stay, so the manifest still says what was set, never to what).
 * Keys are never in the config at all: only the names of the variables holding them.
 */
/** A dataset file a run read. */
export interface ManifestDataset {
  path: string;
  source?: string;
  format: string;
  sha256: string;
  valid_rows: number;
  bad_rows: number;
  limit: number | null;
}

export function manifestConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  if (typeof out.base_url === "string") out.base_url = redactUrl(out.base_url);
  if (isRecord(out.perspective) && typeof out.perspective.endpoint === "string") out.perspective = { ...out.perspective, endpoint: redactUrl(out.perspective.endpoint) };
  if (isRecord(out.providers)) {
    out.providers = Object.fromEntries(
      Object.entries(out.providers).map(([name, entry]) => {
        if (!isRecord(entry)) return [name, entry];
        const clean: Record<string, unknown> = { ...entry };
        if (typeof clean.base_url === "string") clean.base_url = redactUrl(clean.base_url);
        if (Array.isArray(clean.base_urls)) clean.base_urls = clean.base_urls.map((url) => (typeof url === "string" ? redactUrl(url) : url));
        if (isRecord(clean.headers)) clean.headers = Object.fromEntries(Object.keys(clean.headers).map((header) => [header, REDACTED]));
        return [name, clean];
      }),
    );
  }
  return out;
}

/** Where a manifest's config had a secret removed (manifestConfig): calls made with it again would lack them. */
export function redactedSettings(config: Record<string, unknown>): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value === "string" && value.includes(REDACTED)) found.push(path);
    else if (isRecord(value)) for (const [key, inner] of Object.entries(value)) visit(inner, path ? `${path}.${key}` : key);
  };
  visit({ base_url: config.base_url, providers: config.providers, perspective: config.perspective }, "");
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
