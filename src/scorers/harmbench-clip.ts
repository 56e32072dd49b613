import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SentencePieceTokenizer } from "../common/spm-tokenizer.js";

/** HarmBench's `num_tokens`: generations are cut to this many tokens of its classifier's tokenizer. */
export const HARMBENCH_CLIP_TOKENS = 512;

const VOCABULARY = fileURLToPath(new URL("../../suites/tokenizers/ggml-vocab-llama-spm.gguf", import.meta.url));

let tokenizer: SentencePieceTokenizer | undefined;

/** The Llama-2 SentencePiece tokenizer of HarmBench's classifier, read once from the vocabulary shipped in suites/tokenizers. */
export function llama2Tokenizer(): SentencePieceTokenizer {
  tokenizer ??= SentencePieceTokenizer.fromGguf(readFileSync(VOCABULARY), VOCABULARY);
  return tokenizer;
}

/**
 * A generation as HarmBench's classifier sees it: HarmBench (evaluate_completions.py) runs
 * `tokenizer.encode(generation, max_length=512, truncation=True)` with the classifier's Llama-2 tokenizer,
 * which puts a beginning-of-sequence token first and counts it, then `tokenizer.decode(ids,
 * skip_special_tokens=True)`. So the text keeps its first 511 tokens, and passes through the tokenizer's
 * round trip even when it is shorter (special-token texts such as `</s>` in it are dropped, "▁" becomes a space).
 */
export function clipForHarmBench(generation: string): string {
  const llama = llama2Tokenizer();
  return llama.decode(llama.encode(generation).slice(0, HARMBENCH_CLIP_TOKENS - 1), { skipSpecialTokens: true });
}
