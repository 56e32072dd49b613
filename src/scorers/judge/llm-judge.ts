import type { Sample } from "../../datasets/sample.js";
import type { Message } from "../../providers/messages.js";
import { ProviderError } from "../../providers/errors.js";
import type { GenerationOptions, ModelCall, ResponseFormat, TokenUsage } from "../../providers/types.js";
import { extractJsonObject } from "./extract-json.js";
import { renderJudgePrompt } from "./render.js";
import type { SchemaValidator } from "./schema-validator.js";

export interface JudgeVerdict {
  json: Record<string, unknown>;
  /** The judge's last answer, verbatim. */
  raw: string;
  /** Judge calls made, repairs included. */
  calls: number;
  usage: TokenUsage;
  latencyMs: number;
}

/** The judge answered, but never in a form that validates: the row carries this error, never a made-up score. */
export class JudgeInvalidError extends ProviderError {
  constructor(
    message: string,
    readonly raw: string,
    readonly calls: number,
  ) {
    super("judge_invalid", message);
  }
}

export interface LlmJudgeSettings {
  modelAddress: string;
  call: ModelCall;
  promptTemplate: string;
  schema: Record<string, unknown>;
  structuredOutput: "json_schema" | "json_object" | "none";
  repairAttempts: number;
  options: GenerationOptions;
  validator: SchemaValidator;
}

/** An LLM judge whose answer must be JSON valid against a schema (the run's, or the item's own). */
export class LlmJudge {
  constructor(private readonly settings: LlmJudgeSettings) {}

  /** The generation options its calls use (recorded as the judge's provenance). */
  get options(): GenerationOptions {
    return this.settings.options;
  }

  async judge(sample: Sample, messages: Message[], candidate: string, signal?: AbortSignal): Promise<JudgeVerdict> {
    const { settings } = this;
    const schema = sample.judgeSchema ?? settings.schema;
    const prompt = renderJudgePrompt(sample.judgePrompt ?? settings.promptTemplate, sample, messages, candidate);
    const conversation: Message[] = [{ role: "user", content: prompt }];
    // The item's own id is pinned in the schema sent: a constrained judge then cannot write another item's.
    const responseFormat = this.responseFormat(withItemId(schema, sample.id));
    const usage: TokenUsage = { input_tokens: 0, output_tokens: 0 };
    let latencyMs = 0;
    let raw = "";
    let problem = "";
    const totalCalls = settings.repairAttempts + 1;
    for (let call = 1; call <= totalCalls; call++) {
      const request: Parameters<ModelCall>[0] = { messages: conversation, options: settings.options };
      if (responseFormat) request.responseFormat = responseFormat;
      if (signal) request.signal = signal;
      const answer = await settings.call(request);
      usage.input_tokens += answer.usage.input_tokens;
      usage.output_tokens += answer.usage.output_tokens;
      latencyMs += answer.latencyMs;
      raw = answer.text;
      const json = extractJsonObject(raw);
      problem = json ? (this.problemWith(json, schema, sample) ?? "") : "no JSON object found in the answer";
      if (json && !problem) return { json, raw, calls: call, usage, latencyMs };
      conversation.push(
        { role: "assistant", content: raw },
        { role: "user", content: `Your answer could not be used: ${problem}. Reply again with only the JSON object, in exactly the shape the instructions give.` },
      );
    }
    throw new JudgeInvalidError(`judge ${settings.modelAddress} gave no valid verdict after ${totalCalls} call(s): ${problem}`, raw, totalCalls);
  }

  private problemWith(json: Record<string, unknown>, schema: Record<string, unknown>, sample: Sample): string | undefined {
    const invalid = this.settings.validator.check(schema, json);
    if (invalid) return invalid;
    // A verdict about another item is worse than none.
    if (json.id !== undefined && String(json.id) !== sample.id) return `id: "${String(json.id)}" is not this item's id "${sample.id}"`;
    return undefined;
  }

  private responseFormat(schema: Record<string, unknown>): ResponseFormat | undefined {
    if (this.settings.structuredOutput === "json_schema") return { type: "json_schema", name: "verdict", schema };
    if (this.settings.structuredOutput === "json_object") return { type: "json_object" };
    return undefined;
  }
}

/** The schema with a string `id` property fixed to the item's id (the schema itself when it has none). */
export function withItemId(schema: Record<string, unknown>, id: string): Record<string, unknown> {
  const properties = schema.properties as Record<string, { type?: unknown }> | undefined;
  if (properties?.id?.type !== "string") return schema;
  return { ...schema, properties: { ...properties, id: { type: "string", const: id } } };
}

/** The numbers every summary uses, taken from a verdict when the schema has them. */
export function verdictFields(json: Record<string, unknown> | undefined): { attackSuccess: boolean | null; overall: number | null; safetyScore: number | null } {
  const safety = json?.safety as { score?: unknown } | undefined;
  return {
    attackSuccess: typeof json?.attack_success === "boolean" ? json.attack_success : null,
    overall: typeof json?.overall === "number" ? json.overall : null,
    safetyScore: typeof safety?.score === "number" ? safety.score : null,
  };
}
