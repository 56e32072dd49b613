import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readGgufMetadata } from "../../src/common/gguf-metadata.js";
import { SentencePieceTokenizer } from "../../src/common/spm-tokenizer.js";
import { clipForHarmBench, HARMBENCH_CLIP_TOKENS, llama2Tokenizer } from "../../src/scorers/harmbench-clip.js";
import { needs } from "../helpers/requirements.js";

const fixture = (name: string) => new URL(`../fixtures/llama-spm/${name}`, import.meta.url);

// llama.cpp's own tokenizer test for this vocabulary: inputs separated by a marker line, expected ids one line each.
const inputs = readFileSync(fixture("ggml-vocab-llama-spm.gguf.inp"), "utf8").split("\n__ggml_vocab_test__\n").slice(0, -1);
const expected = readFileSync(fixture("ggml-vocab-llama-spm.gguf.out"), "utf8")
  .split("\n")
  .slice(0, -1)
  .map((line) => line.trim().split(/\s+/).filter(Boolean).map(Number));

interface Reference {
  max_length: number;
  cases: Array<{ text: string; ids: number[]; clip: string }>;
  harmbench_val_generations: Record<string, { tokens: number; clip_sha256: string }>;
}
// Computed by reference.py with sentencepiece and Hugging Face tokenizers (versions in the file).
const reference = JSON.parse(readFileSync(fixture("reference.json"), "utf8")) as Reference;

describe("Llama-2 SentencePiece tokenizer (the shipped vocabulary)", () => {
  const llama = llama2Tokenizer();

  it("reads the vocabulary's GGUF metadata", () => {
    const metadata = readGgufMetadata(readFileSync(new URL("../../suites/tokenizers/ggml-vocab-llama-spm.gguf", import.meta.url)), "vocab");
    expect(metadata.get("tokenizer.ggml.model")).toBe("llama");
    expect(metadata.get("tokenizer.ggml.bos_token_id")).toBe(1);
    expect(metadata.get("tokenizer.ggml.add_bos_token")).toBe(true);
    expect(llama.vocabularySize).toBe(32000);
  });

  it("gives llama.cpp's expected ids for every case of ggml-vocab-llama-spm.gguf.inp/.out", () => {
    expect(inputs).toHaveLength(46);
    expect(expected).toHaveLength(46);
    inputs.forEach((input, index) => {
      expect(llama.encodeFragment(input), JSON.stringify(input)).toEqual(expected[index]);
      expect(llama.encode(input), JSON.stringify(input)).toEqual(expected[index]);
    });
  });

  it("gives Hugging Face's ids on texts with byte fallback, special-token texts, '▁' and lone surrogates", () => {
    expect(reference.cases.length).toBeGreaterThan(30);
    for (const { text, ids } of reference.cases) expect(llama.encode(text), JSON.stringify(text.slice(0, 60))).toEqual(ids);
  });

  it("decodes as Hugging Face does: one leading space dropped, invalid byte runs as one U+FFFD per byte", () => {
    expect(llama.decode([29871, 15043, 3186])).toBe(" Hello world");
    expect(llama.decode([1, 15043, 2], { skipSpecialTokens: true })).toBe("Hello");
    expect(llama.decode([1, 15043, 2])).toBe("<s> Hello</s>");
    // 🦙 is F0 9F A6 99: <0xF0>=243, <0x9F>=162, <0xA6>=169, <0x99>=156
    expect(llama.decode([29871, 243, 162, 169, 156])).toBe("🦙");
    expect(llama.decode([29871, 243, 162, 169])).toBe("\uFFFD\uFFFD\uFFFD");
    expect(llama.decode([29871, 29871, 243, 162, 169, 156])).toBe(" 🦙");
    expect(() => llama.decode([32000])).toThrow(/outside the vocabulary/);
  });

  it("refuses a vocabulary that is not SentencePiece", () => {
    expect(() => new SentencePieceTokenizer(["a"], [0], [4])).toThrow(/type 4/);
    expect(() => SentencePieceTokenizer.fromGguf(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), "x.gguf")).toThrow(/x.gguf: not a GGUF file/);
  });
});

describe("HarmBench's clip: 512 tokens of the classifier's tokenizer, <s> counted", () => {
  it("equals HarmBench's encode(max_length=512, truncation=True) + decode(skip_special_tokens=True) on every reference text", () => {
    expect(reference.max_length).toBe(HARMBENCH_CLIP_TOKENS);
    const long = reference.cases.filter((entry) => entry.ids.length > HARMBENCH_CLIP_TOKENS - 1);
    expect(long.length).toBeGreaterThan(10);
    for (const { text, clip } of reference.cases) expect(clipForHarmBench(text), JSON.stringify(text.slice(0, 60))).toBe(clip);
  });

  it("keeps 511 tokens of a long text (the 512th is <s>)", () => {
    // "word word …" is one "▁word" token per word.
    expect(llama2Tokenizer().encode("word ".repeat(3))).toEqual([1734, 1734, 1734, 29871]);
    expect(clipForHarmBench("word ".repeat(1000))).toBe(Array.from({ length: 511 }, () => "word").join(" "));
    expect(clipForHarmBench("word ".repeat(510))).toBe(`${Array.from({ length: 510 }, () => "word").join(" ")} `);
  });

  it.skipIf(!needs("shared"))("equals HarmBench's clip on all 602 generations of its classifier validation set", () => {
    const file = new URL("../../../shared/datasets/harmbench/classifier_val_set_text_behaviors.json", import.meta.url);
    const labelled = JSON.parse(readFileSync(file, "utf8")) as Record<string, Array<{ generation: string }>>;
    let checked = 0;
    let clippedCount = 0;
    for (const [behaviorId, items] of Object.entries(labelled)) {
      items.forEach((item, index) => {
        const want = reference.harmbench_val_generations[`${behaviorId}#${index}`]!;
        expect(llama2Tokenizer().encode(item.generation).length, `${behaviorId}#${index}`).toBe(want.tokens);
        const clipped = clipForHarmBench(item.generation);
        expect(createHash("sha256").update(clipped).digest("hex"), `${behaviorId}#${index}`).toBe(want.clip_sha256);
        if (want.tokens > HARMBENCH_CLIP_TOKENS - 1) clippedCount++;
        checked++;
      });
    }
    expect(checked).toBe(602);
    expect(clippedCount).toBe(135);
  });
});
