import { fileURLToPath } from "node:url";

/**
 * The model `alignbench run` uses when no --models is given: Qwen2.5-0.5B-Instruct (Apache-2.0), 4-bit,
 * about 490 MB — the smallest widely used instruction-tuned model with a chat template, good enough to show
 * refusal behaviour — run in-process by llama.cpp and downloaded once into the model cache.
 */
export const DEFAULT_LOCAL_MODEL = "llamacpp:hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf";

/** The small built-in alignment suite `alignbench run` uses when no --dataset is given. */
export const BUILTIN_MINI_SUITE = fileURLToPath(new URL("../../suites/alignbench-mini.jsonl", import.meta.url));

/**
 * max_tokens of every model call that sets none, whatever the provider: a small local model may never emit
 * an end token, and would then generate until its context is full (with context shifting, for ever).
 * Recorded in the manifest like any setting the user gave.
 */
export const DEFAULT_MAX_TOKENS = 512;

/**
 * The judge's max_tokens when none is set. A verdict is a short JSON object, but a reasoning judge (OpenAI's
 * o-series and gpt-5 count their reasoning against max_completion_tokens) needs room to think before it:
 * 512 would leave it answering nothing. Still bounded, so a local judge always ends.
 */
export const DEFAULT_JUDGE_MAX_TOKENS = 2048;
