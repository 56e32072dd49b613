import { basename, join } from "node:path";
import { DOMAIN_KINDS, loadMisalignItems, type MisalignItem, type MisalignMapping } from "../datasets/misalign-pairs.js";
import { UserError } from "../errors.js";
import { type Answer, metricsOverRuns, type MetricOverRuns } from "../metrics/misalignment.js";
import type { RowScore } from "../results/record.js";
import { writeJsonAtomically } from "../results/manifest.js";
import { DETECTOR_PROMPT_VERSION, detectorMessages, parseDetectorAnswer } from "../scorers/misalign-detector.js";
import type { ScorerDeclaration } from "../scorers/types.js";
import type { FailureSummary } from "./failures.js";
import type { RunReporter } from "./reporter.js";
import { StageModels, type StageModelOptions } from "./stage-models.js";
import { runStage, type StageItem } from "./stage-run.js";

export const MISALIGN_EVAL_FILE = "misalign-eval.json";
const NAME = "misalign_detection";

export const DETECTION_DECLARATION: ScorerDeclaration = {
  name: NAME,
  description: "Mis-Align-Bench detection: 1 when the model called the response misaligned, 0 aligned, none when its answer was neither word",
  metrics: [{ name: NAME, label: "flagged misaligned", kind: { type: "rate" }, bad: "none" }],
};

export interface GroupMetrics extends MetricOverRuns {
  /** safety, value, cultural (SaVaCu's taxonomies), or category for a run's judge. */
  kind: string;
  domain: string;
}

export interface DetectorReport {
  detector: string;
  overall: MetricOverRuns;
  by_domain: GroupMetrics[];
  /** A few answers that were neither label, as given (shown as text, never interpreted). */
  unparseable_examples: Array<{ id: string; run: number; answer: string }>;
}

export interface MisalignEvalReport {
  kind: "misalign-eval";
  source: string;
  shape: "pairs" | "single" | "run";
  prompt_version: string | null;
  runs: number;
  responses: number;
  interval: string;
  bootstrap: { resamples: number; seed: number; unit: string };
  detectors: DetectorReport[];
  folder: string | null;
  interrupted: boolean;
  /** Calls that failed through every retry (not counted anywhere; a resume asks again). */
  errors: number;
  failures: FailureSummary | null;
}

export interface MisalignEvalOptions extends StageModelOptions {
  dataset: string;
  models: string[];
  runs?: number;
  mapping?: MisalignMapping;
  temperature?: number;
  maxTokens?: number;
  bootstrap?: number;
  seed?: number;
  limit?: number;
  outputDir?: string;
  runId?: string;
  reporter?: RunReporter;
  stopSignal?: AbortSignal;
  abortSignal?: AbortSignal;
  /** One short call per model before the first item (default true). */
  preflight?: boolean;
}

interface DetectionItem extends StageItem {
  source: MisalignItem;
  run: number;
}

export const INTERVAL_NOTE = "95% percentile bootstrap over prompts (a prompt's responses in every run resampled together), of the mean over runs";

/** Detection answers grouped into the report: overall and per domain label, for one detector. */
export function detectorReport(
  detector: string,
  answers: Array<Answer & { id: string; raw: string; domains: Record<string, string[]> }>,
  runs: number,
  bootstrap: { resamples: number; seed: number },
): DetectorReport {
  const settings = { bootstrap: bootstrap.resamples, seed: bootstrap.seed };
  const groups = new Map<string, { kind: string; domain: string; answers: Answer[] }>();
  for (const answer of answers) {
    for (const [kind, labels] of Object.entries(answer.domains)) {
      for (const domain of labels) {
        const key = `${kind}\u0000${domain}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { kind, domain, answers: [] }));
        group.answers.push(answer);
      }
    }
  }
  const kindOrder = (kind: string) => {
    const at = (DOMAIN_KINDS as readonly string[]).indexOf(kind);
    return at < 0 ? DOMAIN_KINDS.length : at;
  };
  return {
    detector,
    overall: metricsOverRuns(answers, runs, settings),
    by_domain: [...groups.values()]
      .sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || a.kind.localeCompare(b.kind) || a.domain.localeCompare(b.domain))
      .map((group) => ({ kind: group.kind, domain: group.domain, ...metricsOverRuns(group.answers, runs, settings) })),
    unparseable_examples: answers
      .filter((a) => a.verdict === null)
      .slice(0, 10)
      .map((a) => ({ id: a.id, run: a.run + 1, answer: a.raw.slice(0, 200) })),
  };
}

/**
 * `misalign-eval`: each model under test says, zero-shot and without the domain labels, whether each response
 * is misaligned; every answer is a durable row of a resumable run; the report holds Coverage, FFR and the
 * Alignment Score per model, overall and per domain, with the mean over runs, their spread and a 95% interval.
 */
export async function misalignEval(options: MisalignEvalOptions): Promise<MisalignEvalReport> {
  const runs = options.runs ?? 3;
  const { items: all, shape } = await loadMisalignItems(options.dataset, options.mapping);
  const items = options.limit ? all.filter((item) => item.unit < options.limit!) : all;
  if (options.models.length === 0) throw new UserError("name at least one model under test (--models)");
  const models = new StageModels(options);
  models.check(options.models);
  const generation = { max_tokens: options.maxTokens ?? 8, ...(options.temperature !== undefined ? { temperature: options.temperature } : {}) };
  const work: DetectionItem[] = [];
  for (const model of options.models)
    for (let run = 1; run <= runs; run++)
      for (const source of items)
        work.push({
          dimensions: { test: source.id, model, epoch: run },
          test: source.id,
          model,
          epoch: run,
          category: source.truth === 1 ? "misaligned" : "aligned",
          messages: detectorMessages(source.prompt, source.response),
          tags: { truth: source.truth === 1 ? "misaligned" : "aligned" },
          source,
          run,
        });
  const bootstrap = { resamples: options.bootstrap ?? 1000, seed: options.seed ?? 0 };
  const stage: Parameters<typeof runStage<DetectionItem>>[0] = {
    kind: "misalign-eval",
    name: NAME,
    declaration: DETECTION_DECLARATION,
    input: options.dataset,
    config: { models: options.models, runs, mapping: options.mapping ?? null, generation, prompt_version: DETECTOR_PROMPT_VERSION, limit: options.limit ?? null },
    items: work,
    dimensions: ["test", "model", "epoch"],
    concurrency: models.concurrency,
    runIdPrefix: "misalign-eval",
    secrets: models.secrets(),
    groupBy: ["truth"],
    ...(options.preflight !== false ? { preflight: () => models.preflight(options.models, options.reporter, options.abortSignal) } : {}),
    work: async (item, signal): Promise<RowScore> => {
      const answer = await models.ask(item.model, item.messages, generation, signal);
      const verdict = parseDetectorAnswer(answer.text);
      return {
        value: verdict,
        label: verdict === null ? "unparseable" : verdict === 1 ? "misaligned" : "aligned",
        raw: answer.text,
        error: null,
        model: item.model,
        usage: answer.usage,
        latency_ms: answer.latencyMs,
      };
    },
  };
  for (const key of ["outputDir", "runId", "reporter", "stopSignal", "abortSignal"] as const) if (options[key] !== undefined) (stage as unknown as Record<string, unknown>)[key] = options[key];
  const outcome = await runStage(stage);
  const detectors: DetectorReport[] = [];
  let errors = 0;
  for (const model of options.models) {
    const answers: Array<Answer & { id: string; raw: string; domains: Record<string, string[]> }> = [];
    for (const { item, score } of outcome.results) {
      if (item.model !== model) continue;
      if (!score) {
        errors++;
        continue;
      }
      const verdict = score.value === 1 ? 1 : score.value === 0 ? 0 : null;
      answers.push({ unit: item.source.unit, run: item.run - 1, truth: item.source.truth, verdict, id: item.source.id, raw: score.raw ?? "", domains: item.source.domains });
    }
    detectors.push(detectorReport(model, answers, runs, bootstrap));
  }
  const report: MisalignEvalReport = {
    kind: "misalign-eval",
    source: options.dataset,
    shape,
    prompt_version: DETECTOR_PROMPT_VERSION,
    runs,
    responses: items.length,
    interval: INTERVAL_NOTE,
    bootstrap: { ...bootstrap, unit: shape === "pairs" ? "prompt (its aligned and misaligned response together)" : `row of ${basename(options.dataset)}` },
    detectors,
    folder: outcome.folder,
    interrupted: outcome.interrupted,
    errors,
    failures: outcome.failures,
  };
  await writeJsonAtomically(join(outcome.folder, MISALIGN_EVAL_FILE), report);
  return report;
}
