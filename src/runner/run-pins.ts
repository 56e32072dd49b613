import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson, sha256Of } from "../common/canonical-json.js";
import type { RunConfig } from "../config/schema.js";
import type { Manifest } from "../results/manifest.js";
import type { RunPins } from "../results/pins.js";
import type { GenerationOptions } from "../providers/types.js";
import { VERSION } from "../version.js";
import { shippedPromptOf } from "../scorers/registry.js";
import type { PreparedRun, RunnableModel } from "./prepare.js";

/** Settings of the config that change what is sent or how it is scored (paths, ids and display settings do not). */
const SCORED_SETTINGS = [
  "plan",
  "epochs",
  "record_format",
  "id_field",
  "prompt_field",
  "context_field",
  "behavior_field",
  "category_field",
  "subcategory_field",
  "records_path",
  "choices_field",
  "answer_field",
  "mc_template",
  "add_bos",
  "respond",
  "cluster_by",
] as const;

/** Settings pinned by the hash of their value (structured, and only ever compared whole). */
const HASHED_SETTINGS = ["plan_options", "scorer_where", "checks", "suite_metrics", "group_by"] as const;

/**
 * The run's pins (see results/pins.ts): the dataset's source, revision and sha256, alignbench's version and
 * its shipped prompts, the suite's name and version, every model's options and what pins it beyond them (a
 * local model's file, chat template and batch settings; an API model's endpoint), the personas' prompts, the
 * verdict judge's prompt and schema, each scorer's declaration and replaced prompt, and the settings that
 * change what is sent. Two runs with equal pins were produced the same way.
 */
export async function runPins(manifest: Manifest, config: RunConfig, prepared: PreparedRun): Promise<RunPins> {
  const pins: RunPins = {
    "alignbench.version": VERSION,
    "alignbench.shipped_prompts_sha256": shippedPromptsHash(),
    "suite.name": config.suite ?? null,
    "suite.version": config.version ?? null,
    "dataset.sha256": manifest.dataset.sha256,
    "dataset.source": manifest.dataset.source ?? null,
    "dataset.revision": revisionOf(manifest.dataset.source),
    "dataset.limit": manifest.dataset.limit,
    "dataset.valid_rows": manifest.dataset.valid_rows,
  };
  for (const part of manifest.dataset.parts ?? []) {
    pins[`dataset.part[${part.name}].sha256`] = part.sha256;
    pins[`dataset.part[${part.name}].source`] = part.source ?? null;
    pins[`dataset.part[${part.name}].revision`] = revisionOf(part.source);
  }
  const settings = config as unknown as Record<string, unknown>;
  for (const key of SCORED_SETTINGS) pins[`config.${key}`] = scalar(settings[key]);
  for (const key of HASHED_SETTINGS) pins[`config.${key}_sha256`] = sha256Of(settings[key] ?? null);
  for (const persona of manifest.personas) pins[`persona[${persona.slug}].system_prompt_sha256`] = sha256Of(persona.system_prompt);
  const local = [...prepared.models, ...Object.values(prepared.roles)].some((model) => model.resolved.model.describe !== undefined);
  // Local models batch work items side by side: what was in flight can matter to their numbers.
  if (local) pins["config.concurrency"] = config.concurrency;
  for (const model of prepared.models) Object.assign(pins, await modelPins(`model[${model.address}]`, model));
  for (const [role, model] of Object.entries(prepared.roles)) Object.assign(pins, await modelPins(`role[${role}]`, model));
  Object.assign(pins, judgePins(manifest));
  // The prompt each scorer asks: the user's replacement, else the one alignbench ships for it.
  for (const entry of prepared.scorers) {
    const file = config.scorer_prompts[entry.name];
    const prompt = file ? readFileSync(file, "utf8") : shippedPromptOf(entry.name);
    if (prompt !== undefined) pins[`scorer[${entry.name}].prompt_sha256`] = sha256Of(prompt);
  }
  return pins;
}

/** The verdict judge's prompt, schema and settings, and every scorer's declaration, from the manifest. */
function judgePins(manifest: Pick<Manifest, "judge" | "scorer_declarations">): RunPins {
  const pins: RunPins = {};
  const judge = manifest.judge;
  if (judge) {
    pins["judge.prompt_sha256"] = sha256Of(judge.prompt_template);
    pins["judge.schema_sha256"] = sha256Of(judge.schema);
    pins["judge.structured_output"] = judge.structured_output;
    pins["judge.repair_attempts"] = judge.repair_attempts;
  }
  // What a scorer measures; its judge's provenance (model, prompt hash, settings) is pinned above under judge.*,
  // so it is left out here, or one judge change would count twice.
  for (const { judge: _provenance, ...declaration } of manifest.scorer_declarations ?? []) pins[`scorer[${declaration.name}].declaration_sha256`] = sha256Of(declaration);
  return pins;
}

/**
 * After a rejudge replaced the judge or added scorers: their pins follow the manifest (the judge's model and
 * options too), so a comparison sees the judge that produced the scores now in the run.
 */
export function refreshJudgePins(manifest: Manifest): void {
  if (!manifest.pins) return;
  const judge = manifest.judge;
  if (judge) {
    manifest.pins["role[judge].address"] = judge.model;
    for (const key of ["temperature", "max_tokens", "top_p", "seed"] as const) manifest.pins[`role[judge].${key}`] = judge.options[key] ?? null;
  }
  Object.assign(manifest.pins, judgePins(manifest));
}

/** A model's pins under a prefix: provider, id, every generation option, its endpoint or its own description. */
async function modelPins(prefix: string, model: RunnableModel): Promise<RunPins> {
  const pins: RunPins = { [`${prefix}.address`]: model.address, [`${prefix}.provider`]: model.resolved.providerName, [`${prefix}.model_id`]: model.resolved.model.modelId };
  const options: GenerationOptions = model.options;
  for (const key of ["temperature", "max_tokens", "top_p", "seed"] as const) pins[`${prefix}.${key}`] = options[key] ?? null;
  pins[`${prefix}.stop`] = options.stop ? canonicalJson(options.stop) : null;
  if (model.resolved.endpoint) pins[`${prefix}.endpoint`] = withoutPort(model.resolved.endpoint);
  const described = await model.resolved.model.describe?.();
  for (const [key, value] of Object.entries(described ?? {})) pins[`${prefix}.${key}`] = value;
  return pins;
}

/** A hub reference's revision (`@rev`, else main); null for a URL or a local file, whose sha256 alone pins it. */
function revisionOf(source: string | undefined): string | null {
  if (!source?.startsWith("hf:")) return null;
  return /@([^@\s/]+)$/.exec(source)?.[1] ?? "main";
}

/** An endpoint without its port: a local server on another free port is the same server. */
function withoutPort(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.hostname}${url.pathname}`;
  } catch {
    return endpoint;
  }
}

function scalar(value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  return canonicalJson(value);
}

let promptsHash: string | undefined;

/** One sha256 over every prompt file alignbench ships (suites/prompts), by relative path: any edit to one shows. */
export function shippedPromptsHash(): string {
  if (promptsHash) return promptsHash;
  const root = fileURLToPath(new URL("../../suites/prompts/", import.meta.url));
  const files: Array<[string, string]> = [];
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) files.push([relative(root, path).split("\\").join("/"), readFileSync(path, "utf8")]);
    }
  };
  visit(root);
  files.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  promptsHash = sha256Of(files);
  return promptsHash;
}
