import type { Sample } from "../../datasets/sample.js";
import type { Message } from "../../providers/messages.js";
import type { Persona } from "../../personas/persona.js";
import type { CompletionCall, GenerateResult, GenerationOptions, LanguageModel, ModelCall, ResponseFormat } from "../../providers/types.js";
import type { ResultRow, RowScore, TranscriptCall } from "../../results/record.js";
import type { ScorerDeclaration } from "../../scorers/types.js";

/** A model playing a role in a run, with the run's policies (rate limit, retries, timeout) applied. */
export interface RoleModel {
  role: string;
  address: string;
  /** The options this role's calls use unless a call says otherwise. */
  options: GenerationOptions;
  call: ModelCall;
  /** The model's plain text completion (no chat template), behind the same policy; absent where the API only chats. */
  complete?: CompletionCall;
  /** The same model for log-likelihood scoring, behind the same policy. */
  scoring: LanguageModel;
}

/** One call a plan asks for: the role's model, with the role's options unless overridden. */
export interface PlanCall {
  messages: Message[];
  options?: GenerationOptions;
  responseFormat?: ResponseFormat;
  /**
   * Names the call within the item ("stream 1 round 2 target"), for plans that declare `resumesTurns`: a
   * named call that finished is journaled, and an item resumed after a kill replays it instead of calling
   * again (see src/runner/turn-journal.ts). Unique within the item; the same name for the same call on every run.
   */
  step?: string;
}

/** One plain text completion a plan asks for: the role's model continues `prompt`, with the role's options unless overridden. */
export interface PlanCompletion {
  prompt: string;
  options?: GenerationOptions;
}

/** What a plan gets for one work item. */
export interface PlanContext {
  sample: Sample;
  /** The work item's coordinates (test, persona, model, epoch, and any a suite adds). */
  dimensions: Record<string, string | number>;
  persona: Persona | undefined;
  /** The run's models by role; `target` is the model under test of this item. */
  roles: Record<string, RoleModel>;
  /** The run's `plan_options` (a suite's settings for its plan: strategies, turns…). */
  options: Record<string, unknown>;
  signal?: AbortSignal;
  /**
   * Calls a role's model and records the call in the item's transcript (a failed call too). Plans make
   * every model call through this, so the transcript is complete without any bookkeeping of their own.
   */
  call(role: string, request: PlanCall): Promise<GenerateResult>;
  /**
   * A plain text completion by a role's model, recorded in the transcript like `call` (its prompt as one user
   * message). Only for plans that declare `targetCapabilities: ["complete"]`, whose targets are checked for it.
   */
  complete(role: string, request: PlanCompletion): Promise<GenerateResult>;
  /**
   * Records an answer this row did not ask for (a baseline's output stored in a file or an earlier run, or one
   * another row of the run already got) in the transcript beside the calls, `source` as its model and "stored"
   * as its finish reason, so scorers, the viewer and a later rescore read it as they read a call's answer.
   */
  recordStored(role: string, source: string, messages: Message[], response: string): void;
  /** The transcript so far. */
  readonly transcript: readonly TranscriptCall[];
}

/** What a plan returns: the target's conversation and final response (for scorers and tables), and any scores of its own. */
export interface PlanResult {
  /** What the model under test was sent first: the row's `messages`. */
  messages: Message[];
  /** The model under test's final response (null when the plan generates none, e.g. log-likelihood suites). */
  response: string | null;
  finishReason: string | null;
  /** Scores the plan computed itself (a red-team judge per turn…); the run's scorers are applied after. */
  scores?: Record<string, RowScore>;
}

/**
 * What one work item does. A plan is one file: its name, the roles it needs, and `run`. Register it with
 * `registerPlan` (src/runner/plans/registry.ts) and name it in a suite (`plan: NAME`) or with `--plan`.
 */
export interface Plan {
  name: string;
  description: string;
  /** Roles the plan calls besides `target` (e.g. attacker, judge); the run refuses to start without them. */
  roles: string[];
  /**
   * Optional model capabilities the plan uses on its targets (`complete`: plain text completion); a target
   * without one is refused by name before the run starts.
   */
  targetCapabilities?: ReadonlyArray<"complete">;
  run(context: PlanContext): Promise<PlanResult>;
  /**
   * Dimensions the plan adds to every work item, after test, persona, model and epoch (a red-team plan's
   * attack strategies, a drift plan's checkpoints), from the run's `plan_options`. Each value becomes part
   * of the work key, a row dimension, and a breakdown of the summary.
   */
  axes?(options: Record<string, unknown>): Array<{ name: string; values: Array<string | number> }>;
  /**
   * Checks the run's models before the first item (after the preflight calls), so a mistake in them stops
   * the run up front rather than failing every row: called once per target, with every role's model.
   */
  check?(roles: Record<string, RoleModel>, options?: Record<string, unknown>): Promise<void>;
  /**
   * What the scores the plan computes itself (PlanResult.scores) measure, by score name: kept in the run's
   * manifest beside the scorers' declarations, so summaries and reports read them like any scorer's.
   */
  scores?: ScorerDeclaration[];
  /**
   * Whether an earlier attempt's calls can be reused when only its scoring failed (a plan whose calls
   * are all the target's generations: yes). Default false: the plan runs again.
   */
  reusable?: boolean;
  /**
   * The plan names its calls (PlanCall.step) so that an item killed mid-conversation resumes after its last
   * finished call instead of starting over: the runner journals them in the run folder (turns.jsonl).
   */
  resumesTurns?: boolean;
}

/** An earlier attempt whose calls succeeded, handed to the runner to rescore instead of rerunning the plan. */
export type ReusableAttempt = Pick<ResultRow, "messages" | "raw_candidate" | "finish_reason" | "transcript" | "usage" | "latency_ms" | "generation">;
