// The public API. Everything exported here is supported; anything else is internal.
export { run, type RunControls, type RunOutcome } from "./runner/run.js";
export { rejudge, type RejudgeOptions } from "./runner/rejudge.js";
export { registerPlan, planNamed, planNames } from "./runner/plans/registry.js";
export type { Plan, PlanCall, PlanContext, PlanResult, RoleModel } from "./runner/plans/types.js";
export { generatePlan } from "./runner/plans/generate.js";
export { multiTurnPlan } from "./runner/plans/multi-turn.js";
export { RunSession, type SessionOptions, type SessionControls } from "./runner/session.js";
export { LocalRunStore } from "./runner/store/local-store.js";
export { RunLock, RunLockedError } from "./runner/store/lock.js";
export type { RunStore, Claim, KeyState, RecoveryReport, StoreSnapshot } from "./runner/store/types.js";
export { registerScorer, scorerNames, builtinDeclaration } from "./scorers/registry.js";
export type { Scorer, Score, ScorerContext, ScorerServices, ScorerDeclaration, MetricDeclaration, MetricKind, BadDirection } from "./scorers/types.js";
export { VERDICT_DECLARATION, verdictScorer } from "./scorers/verdict.js";
export { runConfigSchema, type RunConfig, type RunConfigInput } from "./config/schema.js";
export { resolveRunConfig, ConfigError } from "./config/load.js";
export { checkDataset, streamSamples, type DatasetCheck, type BadRowPolicy } from "./datasets/dataset.js";
export type { Sample } from "./datasets/sample.js";
export type { Message, Role } from "./providers/messages.js";
export { BUILTIN_PERSONAS } from "./personas/builtin.js";
export { composeMessages } from "./personas/compose.js";
export { loadPersonasFile, personaCatalog } from "./personas/load.js";
export { NO_PERSONA, type Persona } from "./personas/persona.js";
export { ModelRegistry, type ProviderSettings, type ResolvedModel } from "./providers/registry.js";
export { createOpenAICompatible } from "./providers/openai.js";
export { createAnthropic } from "./providers/anthropic.js";
export { createGoogle } from "./providers/google.js";
export { ProviderError, type ErrorType } from "./providers/errors.js";
export type {
  LanguageModel,
  GenerateRequest,
  GenerateResult,
  GenerationOptions,
  ModelCall,
  TokenUsage,
  LoglikelihoodRequest,
  LoglikelihoodResult,
  ScoringOptions,
  TokenDistribution,
  TokenizeResult,
  TokenLogprobs,
  FidelityStatistics,
} from "./providers/types.js";
export { sameVocabulary, vocabularyFingerprint } from "./providers/vocabulary.js";
export { logprobRow, logSumExp } from "./providers/dense-logprobs.js";
export {
  ensureHubFile,
  ensureUrlFile,
  ensureRemoteDataset,
  parseHubReference,
  defaultModelCache,
  defaultDatasetCache,
  huggingFaceCache,
  type DownloadProgress,
  type HubDownloadOptions,
} from "./io/download.js";
export { scoreMultipleChoice, scoreChoices, requireLoglikelihood, requireBosChoice, type Choice, type MultipleChoiceOptions, type MultipleChoiceScore } from "./scorers/multiple-choice.js";
export { DEFAULT_JUDGE_PROMPT, DEFAULT_VERDICT_SCHEMA } from "./scorers/judge/default-prompt.js";
export { LlmJudge, JudgeInvalidError, type JudgeVerdict } from "./scorers/judge/llm-judge.js";
export { extractJsonObject } from "./scorers/judge/extract-json.js";
export { ClassifierJudge, classifierPrompt, parseYesNo, type ClassifierVerdict } from "./scorers/classifier-judge.js";
export { clipForHarmBench, llama2Tokenizer, HARMBENCH_CLIP_TOKENS } from "./scorers/harmbench-clip.js";
export { SentencePieceTokenizer } from "./common/spm-tokenizer.js";
export { agreement, type Agreement } from "./metrics/agreement.js";
export { judgeEval, type JudgeEvalReport } from "./runner/judge-eval.js";
export { loadHarmBenchLabels, loadJsonlLabels, type LabelledItem } from "./datasets/labels.js";
export { loadLabelledFile, readLabel, type LabelMapping, type LabelledFile } from "./datasets/labelled-file.js";
export { proportion, mean, meanOf, type Estimate } from "./metrics/intervals.js";
export { clusteredMean, clusteredProportion, bootstrapInterval } from "./metrics/clustered.js";
export { pairedDifference, mcnemar, type McNemarResult } from "./metrics/paired.js";
export { compareRuns, type RunComparison, type ComparedRow } from "./metrics/compare-runs.js";
export { SummaryBuilder, type SummaryOptions, type HeadlineDefinition } from "./metrics/summary.js";
export type { RunSummary, GroupSummary, MetricSummary, Breakdown, Headline } from "./metrics/summary-types.js";
export { runDeclarations, runSummaryOptions } from "./metrics/declarations.js";
export type { ResultRow, RowScore, TranscriptCall } from "./results/record.js";
export type { Manifest } from "./results/manifest.js";
export { progressReporter } from "./reports/progress.js";
export type { RunReporter } from "./runner/reporter.js";
export { buildReportData, buildRunReport, type ReportData, type RunReport, type ReportItem, type ReportOptions } from "./reports/report-data.js";
export { renderHtmlReport } from "./reports/html-report.js";
export { paperTables, formatTables, type TableFormat, type IntervalStyle } from "./reports/paper-tables.js";
export { startViewer, type Viewer, type ViewerOptions } from "./viewer/server.js";
export { SCORER_NAMES, scorer, checkScorer, type ScorerName } from "./scorers/registry.js";
export { PerspectiveClient, type PerspectiveSettings } from "./providers/perspective.js";
export { severityOf, outcomeOf, badnessOf, directionFor } from "./metrics/outcome.js";
export { renderSummary } from "./reports/terminal-summary.js";
export { UserError, InputError, InterruptedError } from "./errors.js";
export { VERSION } from "./version.js";
// Reproducible, costed, cached and local runs (README: Reproducibility).
export { comparePins, diffPins, type RunPins, type PinDifference, type PinComparison } from "./results/pins.js";
export { installOfflineGuard, isLoopback, OfflineRefusal, type OfflineGuard } from "./io/offline-guard.js";
export { estimateRun, type RunEstimate, type RoleEstimate } from "./runner/estimate.js";
export { priceOf } from "./metrics/prices.js";
export { PRICE_TABLE } from "./metrics/price-table.js";
export { ResponseCache, defaultCacheFile } from "./runner/response-cache.js";
// Red teaming (README: Red teaming).
export { parseStrategies, applySteps, decodeSteps } from "./runner/redteam/strategies.js";
export { summariseAttacks, worstAttacks, type RedTeamSummary, type AttackRecord } from "./metrics/redteam-summary.js";
export { exportOfRun as redTeamExportOfRun, readExport as readRedTeamExport, type RedTeamExport } from "./results/redteam-export.js";
// Mis-Align-Bench (README: Mis-Align-Bench).
export { misalignEval, type MisalignEvalOptions, type MisalignEvalReport } from "./runner/misalign-eval.js";
export { detectionRates, metricsOverRuns, type DetectionCounts, type DetectionRates } from "./metrics/misalignment.js";
export { simhash, hamming, type Fingerprint } from "./datasets/dedup/simhash.js";
export { dedupTexts, type DedupResult, type DedupOptions } from "./datasets/dedup/dedup.js";
export { dedupFile } from "./datasets/dedup/dedup-file.js";
export { splitDataset } from "./datasets/split.js";
export { classifyPrompts } from "./runner/dataset/classify.js";
export { expandPrompts } from "./runner/dataset/expand.js";
export { generatePairs } from "./runner/dataset/generate.js";
// Task vectors, merging and the mixture of calibrated experts (README: Task vectors and merging; Mixture of calibrated experts).
export { openCheckpoint } from "./weights/checkpoint.js";
export { diffCheckpoints } from "./weights/diff.js";
export { mergeCheckpoints } from "./weights/merge.js";
export { calibrate as calibrateRouter } from "./weights/calibrate/calibrate.js";
export { route, centroids as routerCentroids } from "./providers/moe/routing.js";
export { readRouterFile, type RouterFile } from "./providers/moe/router-file.js";
