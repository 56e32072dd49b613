import { resolve } from "node:path";
import { InterruptedError, UserError } from "../errors.js";
import type { DatasetPartConfig, RunConfig } from "../config/schema.js";
import { fieldMapping, runTags } from "./field-mapping.js";
import { PART_TAG, type PartReading, type PartsCheck } from "../datasets/parts.js";
import { formatOf } from "../datasets/readers.js";
import { ensureRemoteDataset, isRemoteReference, type HubDownloadOptions } from "../io/download.js";
import type { ManifestDataset } from "../results/manifest.js";
import { redactUrl, urlCredentials } from "../providers/url.js";
import { noteSecrets } from "../secrets.js";

// The runner's side of a run over several datasets (config `datasets:`): where each part's file is (the
// suite's, or the user's own through part_datasets / --part-dataset), downloading remote ones once, and
// how each is read. The single-dataset path in run.ts does not come through here.

/** The top-level keys that say how to read one dataset. */
const READING_KEYS = ["id_field", "prompt_field", "category_field", "subcategory_field", "context_field", "behavior_field", "choices_field", "answer_field", "record_format", "records_path"] as const;

export interface ResolvedParts {
  readings: PartReading[];
  /** The hub name or URL each downloaded part came from, by part name. */
  sources: Map<string, string>;
  /** What the manifest and log call the run's dataset: the parts' files. */
  label: string;
}

/** Each part's file, local (downloaded when remote), with its reading settings. */
export async function resolveParts(config: RunConfig, download: HubDownloadOptions, onMessage?: (message: string) => void): Promise<ResolvedParts> {
  const parts = config.datasets ?? [];
  if (config.dataset) throw new UserError("give either dataset (one file) or datasets (named parts), not both; a suite's parts take your files with --part-dataset NAME=PATH");
  const names = new Set(parts.map((part) => part.name));
  for (const name of Object.keys(config.part_datasets)) {
    if (!names.has(name)) throw new UserError(`part_datasets: no part is named "${name}"; parts: ${[...names].join(", ")}`);
  }
  // Reading settings at the top level would apply to no part: each part says its own.
  const topLevel = READING_KEYS.filter((key) => config[key] !== undefined);
  if (topLevel.length > 0) throw new UserError(`${topLevel.join(", ")}: with datasets (named parts), give reading settings in each part instead`);
  // Every part's file is known before any is downloaded.
  for (const part of parts) {
    if (!config.part_datasets[part.name] && !part.dataset) {
      throw new UserError(`part ${part.name} needs its dataset: pass --part-dataset ${part.name}=PATH${part.dataset_hint ? ` (${part.dataset_hint})` : ""}`);
    }
  }
  const readings: PartReading[] = [];
  const sources = new Map<string, string>();
  for (const part of parts) {
    let file = (config.part_datasets[part.name] ?? part.dataset)!;
    if (isRemoteReference(file)) {
      sources.set(part.name, file);
      noteSecrets(urlCredentials(file));
      onMessage?.(`dataset ${part.name}: ${file}`);
      try {
        file = await ensureRemoteDataset(file, download);
      } catch (error) {
        if (error instanceof UserError && !(error instanceof InterruptedError) && part.dataset_hint) {
          throw new UserError(`part ${part.name}: ${error.message} (${part.dataset_hint}; or pass --part-dataset ${part.name}=PATH)`);
        }
        throw error;
      }
    }
    const path = resolve(file);
    formatOf(path);
    readings.push(partReading(part, path, config));
  }
  return { readings, sources, label: readings.map((reading) => `${reading.name}=${reading.file}`).join(", ") };
}

/** How one part is read: its own field mapping, the run's group_by tags (but `part`, which the run adds), the smaller limit. */
function partReading(part: DatasetPartConfig, file: string, config: RunConfig): PartReading {
  const mapping = fieldMapping(
    part,
    runTags(config).filter((tag) => tag !== PART_TAG),
  );
  const reading: PartReading = { name: part.name, file, maxRowBytes: config.max_row_bytes };
  if (mapping) reading.mapping = mapping;
  const limits = [part.limit, config.limit].filter((limit): limit is number => limit !== undefined);
  if (limits.length > 0) reading.limit = Math.min(...limits);
  if (part.records_path !== undefined) reading.recordsPath = part.records_path;
  return reading;
}

/** The manifest's account of the parts: each file as a single-dataset run records its one. */
export function partsManifest(resolved: ResolvedParts, checked: PartsCheck, limit: number | undefined): ManifestDataset & { parts: Array<ManifestDataset & { name: string }> } {
  return {
    path: resolved.label,
    format: "parts",
    sha256: checked.sha256,
    valid_rows: checked.validRows,
    bad_rows: checked.badRows,
    limit: limit ?? null,
    parts: checked.parts.map(({ name, check, limit: partLimit }) => {
      const source = resolved.sources.get(name);
      return {
        name,
        path: check.file,
        ...(source ? { source: redactUrl(source) } : {}),
        format: formatOf(check.file),
        sha256: check.sha256,
        valid_rows: check.validRows,
        bad_rows: check.badRows,
        limit: partLimit ?? null,
      };
    }),
  };
}
