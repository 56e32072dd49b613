import type { Sample } from "../datasets/sample.js";
import { NO_PERSONA, type Persona } from "../personas/persona.js";
import { workKey } from "../results/record.js";
import type { StateStore } from "../results/state-store.js";
import { readRowAt } from "../results/partials-reader.js";
import type { ResultRow } from "../results/record.js";
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
  /** A failed earlier attempt that already holds the model's response (only its judging failed): reused, not regenerated. */
  previous?: ResultRow;
}

/** How a run's work is laid out: every (test, persona, model, epoch) in dataset order. */
export class WorkPlan {
  constructor(
    readonly models: RunnableModel[],
    readonly personas: Array<Persona | undefined>,
    readonly epochs: number,
    private readonly store: StateStore,
    /** A fresh run has nothing to skip, so it never asks the store (a resume asks it, key by key). */
    private readonly resuming: boolean,
    /** partials.jsonl, to read back failed attempts whose response can be judged again without regenerating. */
    private readonly partialsFile: string | undefined,
  ) {}

  static create(models: RunnableModel[], personas: Array<Persona | undefined>, epochs: number, store: StateStore, reuseResponsesFrom?: string): WorkPlan {
    const counts = store.counts();
    return new WorkPlan(models, personas, epochs, store, counts.ok + counts.error > 0, reuseResponsesFrom);
  }

  private keys(testId: string): Array<{ key: string; model: RunnableModel; persona: Persona | undefined; epoch: number }> {
    const out = [];
    for (const model of this.models) {
      for (const persona of this.personas) {
        for (let epoch = 1; epoch <= this.epochs; epoch++) out.push({ key: workKey(testId, persona?.slug ?? NO_PERSONA, model.address, epoch), model, persona, epoch });
      }
    }
    return out;
  }

  /** True when every key of this test is done: the resume skips its row without re-validating it. */
  readonly isFinished = (testId: string): boolean => this.resuming && this.keys(testId).every(({ key }) => this.store.lookup(key)?.status === "ok");

  /** Streams the work items not yet done, so a run of any size holds only the items in flight in memory. */
  async *items(samples: AsyncIterable<Sample>): AsyncGenerator<WorkItem> {
    for await (const sample of samples) {
      for (const { key, model, persona, epoch } of this.keys(sample.id)) {
        const state = this.resuming ? this.store.lookup(key) : undefined;
        if (state?.status === "ok") continue;
        const item: WorkItem = { key, sample, persona, model, epoch, attempt: (state?.attempts ?? 0) + 1 };
        if (state?.status === "error" && state.rowOffset !== null && this.partialsFile) {
          const previous = readRowAt(this.partialsFile, state.rowOffset);
          if (previous?.key === key && previous.raw_candidate !== null) item.previous = previous;
        }
        yield item;
      }
    }
  }
}
