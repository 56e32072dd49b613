import { createHash } from "node:crypto";
import { UserError } from "../../errors.js";
import { routingText } from "../../providers/moe/moe-model.js";
import { ROUTER_FORMAT, ROUTER_VERSION, type MixMode, type RouterFile } from "../../providers/moe/router-file.js";
import { centroids } from "../../providers/moe/routing.js";
import { loadLatestRows } from "../../results/load-run.js";
import type { ResultRow } from "../../results/record.js";
import { departure, settingKey, settingsGrid } from "./grid.js";
import { calibrationItems, scoreSetting, type Setting, type SettingScore } from "./objective.js";
import { CalibrationState } from "./state.js";

// `weights calibrate`: from a run in which every expert answered the AlignX calibration items, learn the
// router's centroids from labelled prompts and fit λ and the temperature by grid search to maximise the
// Average Alignment Score of the routed mixture (objective.ts), each evaluated setting persisted so a killed
// calibration resumes (state.ts). Deterministic: the grid is fixed, ties go to the setting closest to the
// uncalibrated router (grid.ts), and the seed only drives alignx_score's bootstrap.

export interface CalibrateOptions {
  runFolder: string;
  experts: Array<{ name: string; model: string }>;
  /** The embedding model's address (written into the router) and how to call it. */
  embedding: string;
  embed: (texts: string[]) => Promise<number[][]>;
  mode: MixMode;
  /** Labelled prompts for the centroids; when absent, the run's items labelled by their `labelTag` tag. */
  labels?: Array<{ text: string; label: string }>;
  labelTag: string;
  lambdaStep: number;
  temperatures: number[];
  seed: number;
  stateFolder: string;
  onProgress?: (message: string) => void;
}

export interface ScoredSetting extends Setting {
  score: SettingScore;
}

export interface CalibrationResult {
  router: RouterFile;
  best: ScoredSetting;
  uncalibrated: ScoredSetting;
  alone: Array<{ name: string; score: SettingScore }>;
  evaluated: number;
  resumed: number;
  items: number;
  dropped: number;
}

const EMBED_BATCH = 16;

export async function calibrate(options: CalibrateOptions): Promise<CalibrationResult> {
  const progress = options.onProgress ?? (() => {});
  const names = options.experts.map((expert) => expert.name);
  const models = options.experts.map((expert) => expert.model);
  const seen = new Set<string>();
  const rows = await loadLatestRows(options.runFolder, (row: ResultRow) => {
    seen.add(row.model_slug);
    return models.includes(row.model_slug) ? row : undefined;
  });
  const missing = models.filter((model) => !seen.has(model));
  if (missing.length > 0) throw new UserError(`${options.runFolder} has no rows of ${missing.join(", ")} (its models: ${[...seen].join(", ") || "none"}): run the suite on every expert first`);
  const { items, dropped } = calibrationItems(rows, models, (row) => routingText({ messages: row.messages }));
  if (items.length === 0) throw new UserError(`${options.runFolder}: no item was scored for every expert, so no setting can be compared`);

  const examples = options.labels ?? items.flatMap((item) => (item.tags?.[options.labelTag] !== undefined ? [{ text: item.text, label: item.tags[options.labelTag]! }] : []));
  for (const name of names) {
    if (!examples.some((example) => example.label === name)) {
      const labels = [...new Set(examples.map((example) => example.label))];
      throw new UserError(`expert "${name}" has no labelled prompt (labels found: ${labels.join(", ") || "none"}): name each expert after the label of the prompts it serves, or pass --labels FILE`);
    }
  }

  const state = CalibrationState.open(options.stateFolder, {
    run: options.runFolder,
    experts: options.experts,
    embedding: options.embedding,
    mode: options.mode,
    labels: options.labels ? hash(JSON.stringify(options.labels)) : `tag:${options.labelTag}`,
    lambda_step: options.lambdaStep,
    temperatures: options.temperatures,
    seed: options.seed,
  });
  const vectors = await embedAll(state, [...items.map((item) => item.text), ...examples.map((example) => example.text)], options.embed, progress);
  const dimensions = new Set([...vectors.values()].map((vector) => vector.length));
  if (dimensions.size > 1)
    throw new UserError(`${options.embedding} gave embeddings of ${[...dimensions].join(" and ")} dimensions (a state folder from another embedding model?): every text must be embedded by one model`);
  const embeddings = items.map((item) => vectors.get(hash(item.text))!);
  const learned = centroids(
    examples.filter((example) => names.includes(example.label)).map((example) => ({ label: example.label, embedding: vectors.get(hash(example.text))! })),
    names,
  );

  const grid = settingsGrid(names.length, options.lambdaStep, options.temperatures);
  const done = new Map(state.settings<ScoredSetting & { key: string }>().map((record) => [record.key, record]));
  const resumed = grid.filter((setting) => done.has(settingKey(setting))).length;
  if (resumed > 0) progress(`resuming: ${resumed} of ${grid.length} settings were evaluated by an earlier run`);
  const scored: ScoredSetting[] = [];
  let evaluated = 0;
  for (const setting of grid) {
    const key = settingKey(setting);
    let record = done.get(key);
    if (!record) {
      record = { key, ...setting, score: scoreSetting(items, embeddings, learned, setting, options.mode, options.seed) };
      state.addSetting(record);
      evaluated++;
      if (evaluated % 50 === 0) progress(`evaluated ${resumed + evaluated} of ${grid.length} settings`);
    }
    scored.push(record);
  }
  const best = pickBest(scored);
  if (!best) throw new UserError(`${options.runFolder}: no setting has an Average Alignment Score (the run needs scored rows on all three AlignX axes: helpfulness, harmlessness, honesty)`);
  const even = names.map(() => 1 / names.length);
  const at = (lambdas: number[], temperature: number): ScoredSetting => ({
    lambdas,
    temperature,
    score: scoreSetting(items, embeddings, learned, { lambdas, temperature }, options.mode, options.seed),
  });
  const uncalibrated = at(even, 1);
  const alone = names.map((name, index) => ({
    name,
    score: at(
      names.map((_, other) => (other === index ? 1 : 0)),
      1,
    ).score,
  }));
  const router: RouterFile = {
    format: ROUTER_FORMAT,
    version: ROUTER_VERSION,
    mode: options.mode,
    embedding: options.embedding,
    temperature: best.temperature,
    experts: options.experts.map((expert, index) => ({
      name: expert.name,
      model: expert.model,
      lambda: best.lambdas[index]!,
      centroid: learned[index]!,
      examples: examples.filter((example) => example.label === expert.name).length,
    })),
    calibration: {
      objective: "alignx_score: Average Alignment Score = (win rate + TI − Safety Score) / 3",
      run: options.runFolder,
      mode: options.mode,
      items: items.length,
      dropped_items: dropped,
      grid: { lambda_step: options.lambdaStep, temperatures: options.temperatures, settings: grid.length },
      seed: options.seed,
      best: best.score,
      uncalibrated: { lambdas: even, temperature: 1, ...uncalibrated.score },
      experts_alone: Object.fromEntries(alone.map(({ name, score }) => [name, score])),
    },
  };
  return { router, best, uncalibrated, alone, evaluated, resumed, items: items.length, dropped };
}

/** The highest Average Alignment Score; among equal ones, the setting closest to the uncalibrated router, then the first in grid order. */
export function pickBest(scored: readonly ScoredSetting[]): ScoredSetting | undefined {
  let best: ScoredSetting | undefined;
  for (const candidate of scored) {
    if (candidate.score.aas === null) continue;
    if (!best || better(candidate, best)) best = candidate;
  }
  return best;
}

/** Scores equal to 1e-9 count as a tie (sums of the same values in another order). */
function better(a: ScoredSetting, b: ScoredSetting): boolean {
  const gap = a.score.aas! - b.score.aas!;
  if (Math.abs(gap) > 1e-9) return gap > 0;
  const [aT, aL] = departure(a);
  const [bT, bL] = departure(b);
  if (Math.abs(aT - bT) > 1e-12) return aT < bT;
  return aL < bL - 1e-12;
}

async function embedAll(state: CalibrationState, texts: string[], embed: (texts: string[]) => Promise<number[][]>, progress: (message: string) => void): Promise<Map<string, number[]>> {
  const vectors = state.embeddings();
  const wanted = [...new Map(texts.map((text) => [hash(text), text])).entries()].filter(([key]) => !vectors.has(key));
  if (vectors.size > 0 && wanted.length > 0) progress(`embeddings: ${vectors.size} from an earlier run, ${wanted.length} to go`);
  for (let start = 0; start < wanted.length; start += EMBED_BATCH) {
    const batch = wanted.slice(start, start + EMBED_BATCH);
    const answer = await embed(batch.map(([, text]) => text));
    const entries = batch.map(([key], index) => ({ key, vector: answer[index]! }));
    state.addEmbeddings(entries);
    for (const { key, vector } of entries) vectors.set(key, vector);
    progress(`embedded ${Math.min(start + EMBED_BATCH, wanted.length)} of ${wanted.length} prompts`);
  }
  return vectors;
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
