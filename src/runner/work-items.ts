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

/** How a run's work is laid out: every (test, persona, model, epoch) in dataset order. */
export class WorkPlan {
  constructor(
    readonly models: RunnableModel[],
    readonly personas: Array<Persona | undefined>,
    readonly epochs: number,
    private readonly store: StateStore,
    /** Keys already done, loaded once when resuming (undefined on a fresh run: nothing to skip). */
    private readonly done: Set<string> | undefined,
  ) {}

  static async create(models: RunnableModel[], personas: Array<Persona | undefined>, epochs: number, store: StateStore): Promise<WorkPlan> {
    const counts = store.counts();
    return new WorkPlan(models, personas, epochs, store, counts.ok + counts.error > 0 ? store.doneKeys() : undefined);
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
  readonly isFinished = (testId: string): boolean => {
    const done = this.done;
    return done !== undefined && this.keys(testId).every(({ key }) => done.has(key));
  };

  /** Streams the work items not yet done, so a run of any size holds only the items in flight in memory. */
  async *items(samples: AsyncIterable<Sample>): AsyncGenerator<WorkItem> {
    for await (const sample of samples) {
      for (const { key, model, persona, epoch } of this.keys(sample.id)) {
        if (this.done?.has(key)) continue;
        const attempts = this.done ? (this.store.lookup(key)?.attempts ?? 0) : 0;
        yield { key, sample, persona, model, epoch, attempt: attempts + 1 };
      }
    }
  }
}
