import { createHash } from "node:crypto";
import { InputError, InputErrors } from "../errors.js";
import { checkDataset, streamSamples, type BadRowPolicy, type DatasetCheck, type FieldMapping } from "./dataset.js";
import type { Sample } from "./sample.js";

// A run over several datasets at once (AlignX: instructions for helpfulness, harmful prompts for
// harmlessness, TruthfulQA for honesty), each read with its own settings. Every row keeps the part it came
// from as the tag `part` (so group_by, headlines' where and scorer_where can select it) and its id is
// prefixed `part/`, so ids stay unique across parts and a resume's work keys are the same every time.

/** The tag every row of a multi-dataset run carries: the name of its part. */
export const PART_TAG = "part";

export interface PartReading {
  name: string;
  file: string;
  mapping?: FieldMapping;
  limit?: number;
  maxRowBytes?: number;
  recordsPath?: string;
}

export interface PartCheck {
  name: string;
  check: DatasetCheck;
  limit: number | undefined;
}

/** The parts, checked: the totals a run reports, and one sha256 over the parts' names and files' hashes. */
export interface PartsCheck {
  parts: PartCheck[];
  sha256: string;
  validRows: number;
  badRows: number;
  problems: InputError[];
}

/** The id a part's row runs under: unique across parts. */
export function partId(part: string, id: string): string {
  return `${part}/${id}`;
}

/**
 * Checks every part as a dataset of its own (its problems name its file), before any model call. With
 * policy "stop" the first part with problems stops the run, naming all of that part's.
 */
export async function checkParts(parts: PartReading[], policy: BadRowPolicy): Promise<PartsCheck> {
  const names = new Set<string>();
  for (const part of parts) {
    if (names.has(part.name)) throw new InputError(part.file, undefined, "datasets", `part "${part.name}" is named twice`);
    names.add(part.name);
  }
  const checked: PartCheck[] = [];
  for (const part of parts) {
    const check = await checkDataset(part.file, policy, part.limit, part.mapping, part.maxRowBytes, part.recordsPath);
    checked.push({ name: part.name, check, limit: part.limit });
  }
  const hash = createHash("sha256");
  for (const { name, check } of checked) hash.update(`${name}\u0000${check.sha256}\n`);
  const problems = checked.flatMap(({ check }) => check.problems);
  if (problems.length > 0 && policy === "stop") throw new InputErrors(problems, problems.length);
  return {
    parts: checked,
    sha256: hash.digest("hex"),
    validRows: checked.reduce((sum, { check }) => sum + check.validRows, 0),
    badRows: checked.reduce((sum, { check }) => sum + check.badRows, 0),
    problems,
  };
}

/** The samples of every part in turn, each tagged with its part and its id prefixed. */
export async function* streamParts(checked: PartsCheck, isFinished?: (id: string) => boolean | Promise<boolean>): AsyncGenerator<Sample> {
  for (const { name, check, limit } of checked.parts) {
    const finished = isFinished ? (id: string) => isFinished(partId(name, id)) : undefined;
    for await (const sample of streamSamples(check, limit, finished)) {
      const metadata = sample.metadata ?? {};
      const tags = { ...((metadata.tags as Record<string, string> | undefined) ?? {}), [PART_TAG]: name };
      yield { ...sample, id: partId(name, sample.id), metadata: { ...metadata, tags } };
    }
  }
}
