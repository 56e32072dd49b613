import type { Sample } from "../datasets/sample.js";
import { NO_PERSONA, type Persona } from "../personas/persona.js";
import { workKey } from "../results/record.js";
import type { StateStore } from "../results/state-store.js";
import type { RunnableModel } from "./prepare.js";

/** One (test, persona, model, epoch): the unit the runner schedules, records and resumes. */
export interface WorkItem {
  key: string;
  sample: Sample;
  persona: Persona | undefined;
  model: RunnableModel;
  epoch: number;
  /** 1 + attempts already recorded for this key. */
  attempt: number;
}

/**
 * Streams the work of a run in dataset order, skipping keys already done, so a run of any size holds
 * only the items in flight in memory.
 */
export async function* workItems(
  samples: AsyncIterable<Sample>,
  models: RunnableModel[],
  personas: Array<Persona | undefined>,
  epochs: number,
  store: StateStore,
): AsyncGenerator<WorkItem> {
  for await (const sample of samples) {
    for (const model of models) {
      for (const persona of personas) {
        for (let epoch = 1; epoch <= epochs; epoch++) {
          const key = workKey(sample.id, persona?.slug ?? NO_PERSONA, model.address, epoch);
          const state = store.lookup(key);
          if (state?.status === "ok") continue;
          yield { key, sample, persona, model, epoch, attempt: (state?.attempts ?? 0) + 1 };
        }
      }
    }
  }
}
