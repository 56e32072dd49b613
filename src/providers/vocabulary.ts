import { createHash } from "node:crypto";
import { UserError } from "../errors.js";
import type { LanguageModel, TokenizeResult } from "./types.js";

/** What decides a vocabulary: the tokenizer's kind, its token strings by id, and its merges (BPE). */
export interface VocabularyDescription {
  /** e.g. GGUF `tokenizer.ggml.model`: "llama" (SentencePiece), "gpt2" (BPE). */
  model?: string | undefined;
  tokens: readonly string[];
  merges?: readonly string[] | undefined;
}

/**
 * sha256 (hex) of a vocabulary: the tokenizer kind, every token string in id order and the merges, each
 * length-prefixed so no two different vocabularies serialise alike. Scores, token types and special-token ids
 * are left out: a fine-tune that only re-marks a special token still shares its base's vocabulary.
 */
export function vocabularyFingerprint(vocabulary: VocabularyDescription): string {
  const hash = createHash("sha256");
  const part = (text: string) => hash.update(`${Buffer.byteLength(text)}:`).update(text);
  hash.update("alignbench-vocabulary-v1\n");
  part(vocabulary.model ?? "");
  hash.update(`\ntokens ${vocabulary.tokens.length}\n`);
  for (const token of vocabulary.tokens) part(token);
  const merges = vocabulary.merges ?? [];
  hash.update(`\nmerges ${merges.length}\n`);
  for (const merge of merges) part(merge);
  return hash.digest("hex");
}

type VocabularySource = LanguageModel | TokenizeResult | string;

async function fingerprintOf(source: VocabularySource): Promise<string> {
  if (typeof source === "string") return source;
  if ("fingerprint" in source) return source.fingerprint;
  if (!source.tokenize) throw new UserError(`${source.address}: this provider does not expose its tokenizer, so its vocabulary cannot be compared`);
  return (await source.tokenize("")).fingerprint;
}

/**
 * Whether two models (or two `tokenize` results, or two fingerprints) share a vocabulary, so the same text
 * gives the same token ids and their distributions can be compared position by position.
 */
export async function sameVocabulary(a: VocabularySource, b: VocabularySource): Promise<boolean> {
  const [left, right] = await Promise.all([fingerprintOf(a), fingerprintOf(b)]);
  return left === right;
}
