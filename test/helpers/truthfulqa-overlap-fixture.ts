import { readFileSync } from "node:fs";

// Reference values in test/fixtures/truthfulqa-overlap.json were computed once with the reference tools, by
// Python 3.11 (neither is packaged by Debian, so no committed script can run them here):
// - BLEU: sacrebleu from git (mjpost/sacrebleu v2.6.0-1-gf615c72, imported from its source tree):
//   `sacrebleu.corpus_bleu([hyp], [[ref]], smooth_method="exp", smooth_value=0.0, force=False, lowercase=False,
//   tokenize="intl", use_effective_order=False).score` (lm-evaluation-harness truthfulqa utils.bleu), and
//   `corpus_bleu(..., smooth_method=S, tokenize=T, use_effective_order=E)` for the variants; the tokenizers'
//   outputs with `TokenizerV14International()(text)` and `Tokenizer13a()(text)`.
// - ROUGE: rouge_score 0.1.2's scorer (google-research rouge/rouge_scorer.py @61ce9f0 and rouge/tokenize.py,
//   default tokenizer, no stemmer). Neither pip nor Debian offers the package here, so its Python functions
//   (tokenize, _create_ngrams, _score_ngrams, _lcs_table, _backtrack_norec, _union_lcs, _summary_level_lcs,
//   fmeasure) were transcribed statement for statement into a scratch file and run by Python; called
//   as lm-evaluation-harness's truthfulqa utils.rouge does: " . " → ".\n", fmeasure × 100.
// - items: lm-evaluation-harness's preprocess_function + process_results_gen (np.nanmax) on TruthfulQA.csv
//   rows 0, 1 and 8, split as the Hugging Face truthful_qa script does (strip, split on ";", strip).
export interface OverlapFixture {
  pairs: Array<{ reference: string; hypothesis: string; bleu: number; bleu_variants: Record<string, number>; rouge: { rouge1: number; rouge2: number; rougeLsum: number } }>;
  tokenizers: Array<{ text: string; intl: string; "13a": string }>;
  corpus: { hypotheses: string[]; references: string[][]; scores: Record<string, number> };
  items: Array<{ row: number; completion: string; correct_answers: string[]; incorrect_answers: string[]; results: Record<string, number> }>;
}
export const OVERLAP_FIXTURE = JSON.parse(readFileSync(new URL("../fixtures/truthfulqa-overlap.json", import.meta.url), "utf8")) as OverlapFixture;
