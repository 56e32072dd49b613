import type { Sample } from "../../datasets/sample.js";
import type { Persona } from "../../personas/persona.js";
import type { RunConfig } from "../../config/schema.js";
import type { ResultRow } from "../../results/record.js";

/** What a worker needs of a run, stored once per run: the config (no file paths are read from it). */
export interface RunSpec {
  version: 1;
  runId: string;
  config: RunConfig;
}

/** One work item as it travels: the dataset row and the persona go with it (no shared filesystem). */
export interface ItemJob {
  key: string;
  dimensions: Record<string, string | number>;
  sample: Sample;
  persona: Persona | null;
  target: string;
  attempt: number;
  previous?: ResultRow;
}

/** A finished item on its way back to the coordinator. */
export interface ResultJob {
  row: ResultRow;
  worker: string;
}
