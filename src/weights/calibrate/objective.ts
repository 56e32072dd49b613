import { alignxScore } from "../../metrics/suite-metrics/alignx-score.js";
import type { ResultRow, RowScore } from "../../results/record.js";
import { route, topExpert } from "../../providers/moe/routing.js";
import type { MixMode } from "../../providers/moe/router-file.js";

// What a router setting (λ, T) is worth on a run where every expert answered the same calibration items:
// AlignX's Average Alignment Score of the answers the routed mixture would give, computed from the experts'
// own scored rows, with no model called again.
//   top: an item's scores are those of the expert with the largest weight w_i — exactly what `moe:top:`
//        answers, since it forwards the prompt to that expert (at temperature 0 the same answer);
//   mix: an item's value on each scorer is Σ_i w_i v_i, the expected score when the item goes to expert i
//        with probability w_i. A proxy: a token-level mixture writes its own answer, which no expert's row
//        holds; measure the router `weights calibrate` writes with `alignbench run --models moe:mix:…`.
// An item's value per expert and scorer is the mean over its rows (epochs, personas), as alignx_score
// takes item means; failed or missing scores do not count.

/** One calibration item: its routing text, tags, and per expert the mean value of each scorer. */
export interface CalibrationItem {
  testId: string;
  text: string;
  tags: Record<string, string> | null;
  category: string;
  /** Per expert (in router order): scorer → mean value over the item's rows. */
  values: Array<Record<string, number>>;
}

/** The AlignX numbers of one setting (percent; aas on its −33⅓…66⅔ scale), null where an axis is missing. */
export interface SettingScore {
  aas: number | null;
  win_rate: number | null;
  safety_score: number | null;
  ti: number | null;
  /** Items scored on the three axes together. */
  n: number;
}

/** Groups a run's rows by item, keeping items every expert has at least one scored row of. */
export function calibrationItems(rows: readonly ResultRow[], experts: readonly string[], textOf: (row: ResultRow) => string): { items: CalibrationItem[]; dropped: number } {
  const byItem = new Map<string, { first: ResultRow; sums: Array<Map<string, { sum: number; count: number }>> }>();
  for (const row of rows) {
    const expert = experts.indexOf(row.model_slug);
    if (expert < 0 || row.status !== "ok" || !row.scores) continue;
    let entry = byItem.get(row.test_id);
    if (!entry) byItem.set(row.test_id, (entry = { first: row, sums: experts.map(() => new Map()) }));
    for (const [scorer, score] of Object.entries(row.scores)) {
      if (score.error || typeof score.value !== "number" || !Number.isFinite(score.value)) continue;
      const total = entry.sums[expert]!.get(scorer) ?? { sum: 0, count: 0 };
      total.sum += score.value;
      total.count++;
      entry.sums[expert]!.set(scorer, total);
    }
  }
  const items: CalibrationItem[] = [];
  let dropped = 0;
  for (const [testId, { first, sums }] of byItem) {
    if (sums.some((scorers) => scorers.size === 0)) {
      dropped++;
      continue;
    }
    items.push({
      testId,
      text: textOf(first),
      tags: first.tags,
      category: first.category,
      values: sums.map((scorers) => Object.fromEntries([...scorers].map(([scorer, { sum, count }]) => [scorer, sum / count]))),
    });
  }
  return { items, dropped };
}

/** A router setting: calibration weights per expert and the softmax temperature. */
export interface Setting {
  lambdas: number[];
  temperature: number;
}

/**
 * The AlignX score of the mixture under `setting`: each item routed by its embedding, its values taken
 * (top) or averaged (mix) from the experts, then alignx_score over the resulting rows. `seed` and
 * `resamples` only drive alignx_score's bootstrap interval, which is not used here.
 */
export function scoreSetting(
  items: readonly CalibrationItem[],
  embeddings: ReadonlyArray<ArrayLike<number>>,
  centroids: ReadonlyArray<ArrayLike<number>>,
  setting: Setting,
  mode: MixMode,
  seed: number,
): SettingScore {
  const accumulator = alignxScore.create({ seed, resamples: 100 });
  items.forEach((item, index) => {
    const { weights } = route(embeddings[index]!, centroids, setting.lambdas, setting.temperature);
    let values: Record<string, number>;
    if (mode === "top") values = item.values[topExpert(weights)]!;
    else {
      values = {};
      for (const scorer of Object.keys(item.values[0]!)) {
        if (!item.values.every((expert) => scorer in expert)) continue;
        values[scorer] = item.values.reduce((sum, expert, expertIndex) => sum + weights[expertIndex]! * expert[scorer]!, 0);
      }
    }
    accumulator.add(mixtureRow(item, values));
  });
  const group = accumulator.results().find((result) => Object.keys(result.by).length === 1);
  const estimate = (name: string) => group?.metrics[name]?.estimate ?? null;
  return { aas: estimate("aas"), win_rate: estimate("win_rate"), safety_score: estimate("safety_score"), ti: estimate("ti"), n: group?.metrics.aas?.n ?? 0 };
}

/** The fields alignx_score reads of a row, for the mixture's answer to an item. */
function mixtureRow(item: CalibrationItem, values: Record<string, number>): ResultRow {
  const scores: Record<string, RowScore> = {};
  for (const [scorer, value] of Object.entries(values)) scores[scorer] = { value, label: null, raw: null, error: null };
  return { test_id: item.testId, model_slug: "mixture", tags: item.tags, category: item.category, status: "ok", scores } as ResultRow;
}
