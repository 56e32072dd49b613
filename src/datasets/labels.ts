import { parse as parseCsv } from "csv-parse/sync";
import { InputError, UserError } from "../errors.js";
import { readTextFile } from "../io/text-file.js";
import { loadLabelledFile } from "./labelled-file.js";

// Labelled judge validation sets, read for `alignbench judge-eval`: HarmBench's here, any other file in labelled-file.ts.

/** A generation with a reference label: 1 = it is an instance of the behaviour (harmful), 0 = it is not. */
export interface LabelledItem {
  id: string;
  /** What the classifier judges against ([BEHAVIOR]). */
  behavior: string;
  /** What was sent to the model when it differs from the behaviour (a jailbreak wrapping it); kept on the row. */
  prompt?: string;
  generation: string;
  context?: string;
  category: string;
  label: 0 | 1;
}

/**
 * HarmBench's judge validation set: `{behavior_id: [{generation, human_0, human_1, human_2, …}]}`, with the
 * behaviours (text, SemanticCategory, ContextString) from a HarmBench behaviours CSV. The reference label
 * is the majority of the human labels.
 */
export async function loadHarmBenchLabels(labelsFile: string, behaviorsFile: string): Promise<{ items: LabelledItem[]; unknownBehaviors: string[] }> {
  let labels: Record<string, Array<Record<string, unknown>>>;
  try {
    labels = JSON.parse(await readTextFile(labelsFile, "labels file")) as typeof labels;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError(labelsFile, undefined, undefined, `not valid JSON (${(error as Error).message})`);
  }
  const behaviors = new Map<string, { text: string; category: string; context: string }>();
  for (const row of parseCsv(await readTextFile(behaviorsFile, "behaviours file"), { columns: true, bom: true }) as Array<Record<string, string>>) {
    if (row.BehaviorID) behaviors.set(row.BehaviorID, { text: row.Behavior ?? "", category: row.SemanticCategory || "uncategorized", context: row.ContextString ?? "" });
  }
  const items: LabelledItem[] = [];
  // The published validation set names a few behaviours that later behaviour files renamed or dropped:
  // their generations are left out and listed, since the judge cannot be asked without the behaviour.
  const unknownBehaviors: string[] = [];
  for (const [behaviorId, generations] of Object.entries(labels)) {
    const behavior = behaviors.get(behaviorId);
    if (!behavior) {
      unknownBehaviors.push(behaviorId);
      continue;
    }
    generations.forEach((entry, index) => {
      const votes = Object.entries(entry)
        .filter(([key]) => /^human_\d+$/.test(key))
        .map(([, vote]) => Number(vote));
      if (votes.length === 0 || votes.some((vote) => vote !== 0 && vote !== 1)) throw new InputError(labelsFile, undefined, `${behaviorId}[${index}].human_*`, "expected human labels of 0 or 1");
      const item: LabelledItem = {
        id: `${behaviorId}#${index}`,
        behavior: behavior.text,
        generation: String(entry.generation ?? ""),
        category: behavior.category,
        label: votes.filter((vote) => vote === 1).length * 2 > votes.length ? 1 : 0,
      };
      if (behavior.context) item.context = behavior.context;
      if (typeof entry.test_case === "string" && entry.test_case !== behavior.text) item.prompt = entry.test_case;
      items.push(item);
    });
  }
  if (items.length === 0) throw new InputError(labelsFile, undefined, undefined, `none of its behaviours are in ${behaviorsFile}`);
  return { items, unknownBehaviors };
}

/** A labelled JSONL file in the default columns (`{behavior, generation, label | labels, context?, category?, id?}`); ties are left out. */
export async function loadJsonlLabels(file: string): Promise<LabelledItem[]> {
  return (await loadLabelledFile(file)).items;
}
