import type { Sample } from "../datasets/sample.js";
import { UserError } from "../errors.js";
import { NO_PERSONA, type Persona } from "../personas/persona.js";
import type { RoleModel } from "./plans/types.js";
import type { Claim, RunStore } from "./store/types.js";

/** One value of a dimension, with what the item needs of it (the persona, the model). */
export interface AxisValue {
  value: string | number;
  persona?: Persona | undefined;
  target?: RoleModel;
}

/** A dimension a run's items vary along besides the test item (persona, model, epoch, strategy…). */
export interface Axis {
  name: string;
  values: AxisValue[];
}

/** One work item: the unit the runner schedules, records and resumes. */
export interface WorkItem {
  key: string;
  dimensions: Record<string, string | number>;
  sample: Sample;
  persona: Persona | undefined;
  /** The model under test of this item. */
  target: RoleModel;
  /** 1 + attempts already recorded for this key. */
  attempt: number;
  /** The latest recorded attempt when it failed (reused when only its scoring failed). */
  previous?: Claim["previous"];
}

/**
 * A run's axes, in key order after `test`: persona, model, epoch (0.1's keys), then the plan's own
 * (strategy, checkpoint…).
 */
export function runAxes(targets: RoleModel[], personas: Array<Persona | undefined>, epochs: number, planAxes: Array<{ name: string; values: Array<string | number> }> = []): Axis[] {
  const axes: Axis[] = [
    { name: "persona", values: personas.map((persona) => ({ value: persona?.slug ?? NO_PERSONA, persona })) },
    { name: "model", values: targets.map((target) => ({ value: target.address, target })) },
    { name: "epoch", values: Array.from({ length: epochs }, (_, index) => ({ value: index + 1 })) },
  ];
  for (const axis of planAxes) {
    if (axis.name === "test" || axes.some((known) => known.name === axis.name)) throw new UserError(`the plan's dimension "${axis.name}" is already a dimension of every run`);
    if (axis.values.length === 0) throw new UserError(`the plan's dimension "${axis.name}" has no values: check plan_options`);
    if (new Set(axis.values.map(String)).size !== axis.values.length) throw new UserError(`the plan's dimension "${axis.name}" lists a value twice`);
    // Values become part of work keys, whose parts are separated by "|".
    const bad = axis.values.find((value) => String(value).includes("|"));
    if (bad !== undefined) throw new UserError(`the plan's dimension "${axis.name}": value "${bad}" may not contain "|"`);
    axes.push({ name: axis.name, values: axis.values.map((value) => ({ value })) });
  }
  return axes;
}

/** How many work items each test has. */
export function itemsPerTest(axes: Axis[]): number {
  return axes.reduce((product, axis) => product * axis.values.length, 1);
}

/**
 * How a run's work is laid out: every test × the axes' values, in dataset order, keyed by the dimensions
 * in order (so 0.1's test|persona|model|epoch keys are unchanged). Work is claimed from the store in
 * batches, so a run of any size holds only the items in flight in memory, and a store shared by many
 * workers hands each key to one of them.
 */
export class WorkLayout {
  readonly dimensions: string[];

  /**
   * `resuming`: whether the store already holds rows; a fresh run never asks it whether a test is finished
   * (claims still go through it, so a shared store hands each key to one worker).
   */
  constructor(
    readonly axes: Axis[],
    private readonly store: RunStore,
    private readonly resuming = true,
    private readonly leaseMs = 10 * 60_000,
  ) {
    this.dimensions = ["test", ...axes.map((axis) => axis.name)];
  }

  /** Every combination of the axes' values for one test, in key order (the last axis varies fastest). */
  private combinations(sample: Sample): WorkItem[] {
    const axes = this.axes;
    const out: WorkItem[] = [];
    const choice = new Array<number>(axes.length).fill(0);
    for (;;) {
      const dimensions: Record<string, string | number> = { test: sample.id };
      const parts: string[] = [sample.id];
      let persona: Persona | undefined;
      let target: RoleModel | undefined;
      for (let axis = 0; axis < axes.length; axis++) {
        const entry = axes[axis]!.values[choice[axis]!]!;
        dimensions[axes[axis]!.name] = entry.value;
        parts.push(String(entry.value));
        if (entry.persona !== undefined) persona = entry.persona;
        if (entry.target !== undefined) target = entry.target;
      }
      if (!target) throw new Error("a run needs a model axis");
      out.push({ key: parts.join("|"), dimensions, sample, persona, target, attempt: 1 });
      // Next combination, like an odometer.
      let axis = axes.length - 1;
      while (axis >= 0 && ++choice[axis]! === axes[axis]!.values.length) choice[axis--] = 0;
      if (axis < 0) return out;
    }
  }

  /** Whether every key of a test is done, so a resume can skip its row without validating it again. */
  readonly isFinished = (testId: string): boolean | Promise<boolean> => (this.resuming ? this.allDone(testId) : false);

  private async allDone(testId: string): Promise<boolean> {
    const keys = this.combinations({ id: testId, category: "", subcategory: "", conversation: [] }).map((item) => item.key);
    for (const key of keys) if ((await this.store.lookup(key))?.status !== "ok") return false;
    return true;
  }

  /**
   * Streams the items not yet done, claiming their keys from the store a batch of tests at a time (one
   * call per batch, not per test: a shared store answers each call over the network).
   */
  async *items(samples: AsyncIterable<Sample>, batchSize = 32): AsyncGenerator<WorkItem> {
    let batch: WorkItem[] = [];
    const claimed = async function* (this: WorkLayout, candidates: WorkItem[]): AsyncGenerator<WorkItem> {
      const claims = await this.store.claim(
        candidates.map((item) => item.key),
        this.leaseMs,
      );
      let next = 0;
      // Claims come back in the order asked, so one pass matches them to their items.
      for (const item of candidates) {
        const claim = claims[next];
        if (claim?.key !== item.key) continue;
        next++;
        item.attempt = claim.attempt;
        if (claim.previous) item.previous = claim.previous;
        yield item;
      }
    };
    let tests = 0;
    for await (const sample of samples) {
      for (const item of this.combinations(sample)) batch.push(item);
      if (++tests < batchSize) continue;
      yield* claimed.call(this, batch);
      batch = [];
      tests = 0;
    }
    if (batch.length > 0) yield* claimed.call(this, batch);
  }
}
