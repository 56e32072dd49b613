import { readGgufMetadata, type GgufValue } from "./gguf-metadata.js";

/** SentencePiece piece types, as GGUF's `tokenizer.ggml.token_type` numbers them. */
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const BYTE = 6;

const SPACE_MARK = "\u2581"; // "▁", SentencePiece's visible space

/** A UTF-16 surrogate without its pair: not a character, so it is read as U+FFFD (as UTF-8 encoders write it). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

interface Bigram {
  left: number;
  right: number;
  score: number;
  /** Length of the merged text, to tell a bigram whose symbols have changed since it was queued. */
  size: number;
}

/** Higher score first; equal scores, the leftmost first (llama.cpp's llm_bigram_spm order). */
function before(a: Bigram, b: Bigram): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

/** A binary max-heap of bigrams in `before` order. */
class BigramQueue {
  private readonly items: Bigram[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: Bigram): void {
    const items = this.items;
    let index = items.push(item) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(items[index]!, items[parent]!)) break;
      [items[index], items[parent]] = [items[parent]!, items[index]!];
      index = parent;
    }
  }

  pop(): Bigram {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let best = index;
        if (left < items.length && before(items[left]!, items[best]!)) best = left;
        if (right < items.length && before(items[right]!, items[best]!)) best = right;
        if (best === index) break;
        [items[index], items[best]] = [items[best]!, items[index]!];
        index = best;
      }
    }
    return top;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A SentencePiece BPE tokenizer (Llama-1/2's) from a vocabulary of pieces, scores and types: the algorithm of
 * llama.cpp's `llm_tokenizer_spm` and SentencePiece's BPE model — a "▁" before the text, spaces as "▁", then
 * adjacent pieces merged highest score first (leftmost on ties) while the merged text is a normal piece, and
 * any character the vocabulary lacks written as its UTF-8 bytes (`<0xXX>`). Decoding follows Hugging Face's
 * Llama tokenizer (the one HarmBench clips with): "▁" back to spaces, runs of byte pieces read as UTF-8 (one
 * U+FFFD per byte when they are not valid UTF-8), and the first leading space dropped.
 */
export class SentencePieceTokenizer {
  /** Normal pieces by text: what merges may produce and the final symbols are looked up in. */
  private readonly pieces = new Map<string, number>();
  private readonly byteIds = new Array<number>(256);
  private readonly byteValues = new Map<number, number>();
  private readonly special = new Map<string, number>();
  private readonly specialPattern: RegExp | undefined;
  private readonly unknownId: number;

  constructor(
    private readonly tokens: readonly string[],
    private readonly scores: readonly number[],
    private readonly types: readonly number[],
  ) {
    if (scores.length !== tokens.length || types.length !== tokens.length) throw new Error("a SentencePiece vocabulary needs a score and a type for every piece");
    let unknownId = -1;
    tokens.forEach((token, id) => {
      const type = types[id];
      if (type === NORMAL) {
        if (!this.pieces.has(token)) this.pieces.set(token, id);
      } else if (type === BYTE) {
        const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
        if (!byte) throw new Error(`byte piece ${id} is "${token}", not <0xXX>`);
        this.byteIds[Number.parseInt(byte[1]!, 16)] = id;
        this.byteValues.set(id, Number.parseInt(byte[1]!, 16));
      } else if (type === CONTROL || type === UNKNOWN) {
        this.special.set(token, id);
        if (type === UNKNOWN && unknownId < 0) unknownId = id;
      } else {
        // User-defined pieces are matched whole before merging in SentencePiece; Llama's vocabulary has none.
        throw new Error(`piece ${id} ("${token}") has type ${type}: only normal, byte, control and unknown pieces are supported`);
      }
    });
    if (unknownId < 0) throw new Error("the vocabulary has no unknown piece");
    this.unknownId = unknownId;
    // Longest first, so that of two special pieces starting at the same place the longer one wins.
    const specials = [...this.special.keys()].sort((a, b) => b.length - a.length);
    if (specials.length > 0) this.specialPattern = new RegExp(specials.map(escapeRegExp).join("|"), "g");
  }

  /** Reads the vocabulary (tokens, scores, types) of a GGUF file whose tokenizer is SentencePiece ("llama"). */
  static fromGguf(bytes: Uint8Array, file: string): SentencePieceTokenizer {
    const metadata = readGgufMetadata(bytes, file);
    const model = metadata.get("tokenizer.ggml.model");
    if (model !== "llama") throw new Error(`${file}: tokenizer.ggml.model is ${JSON.stringify(model)}, not "llama" (SentencePiece)`);
    const list = <T>(key: string, check: (value: GgufValue) => value is T & GgufValue): T[] => {
      const value = metadata.get(key);
      if (!Array.isArray(value) || !value.every(check)) throw new Error(`${file}: ${key} is missing or not a list of the right type`);
      return value as T[];
    };
    return new SentencePieceTokenizer(
      list("tokenizer.ggml.tokens", (value): value is string => typeof value === "string"),
      list("tokenizer.ggml.scores", (value): value is number => typeof value === "number"),
      list("tokenizer.ggml.token_type", (value): value is number => typeof value === "number"),
    );
  }

  get vocabularySize(): number {
    return this.tokens.length;
  }

  /**
   * Token ids of a text, without a beginning-of-sequence token, as Hugging Face's Llama tokenizer makes them:
   * the special pieces' texts (`<s>`, `</s>`, `<unk>`) in the text are those pieces, and each stretch of text
   * between them is encoded on its own, with its own leading "▁" (Llama-2's tokenizer.json).
   */
  encode(text: string): number[] {
    if (!this.specialPattern) return this.encodeFragment(text);
    const ids: number[] = [];
    let from = 0;
    for (const match of text.matchAll(this.specialPattern)) {
      ids.push(...this.encodeFragment(text.slice(from, match.index)), this.special.get(match[0])!);
      from = match.index + match[0].length;
    }
    ids.push(...this.encodeFragment(text.slice(from)));
    return ids;
  }

  /** Token ids of a text with no special pieces recognised in it (llama.cpp's tokenizer without parse_special). */
  encodeFragment(fragment: string): number[] {
    if (fragment === "") return [];
    const text = SPACE_MARK + fragment.replace(LONE_SURROGATE, "\uFFFD").replaceAll(" ", SPACE_MARK);
    // One symbol per character (code point); symbols stay contiguous in `text`, so a start and a length say each.
    const starts: number[] = [];
    for (let at = 0; at < text.length; ) {
      starts.push(at);
      at += (text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1;
    }
    const count = starts.length;
    const lengths = starts.map((start, index) => (index + 1 < count ? starts[index + 1]! : text.length) - start);
    const previous = starts.map((_, index) => index - 1);
    const next = starts.map((_, index) => (index + 1 < count ? index + 1 : -1));
    const queue = new BigramQueue();
    const tryBigram = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const merged = text.slice(starts[left], starts[left]! + lengths[left]! + lengths[right]!);
      const id = this.pieces.get(merged);
      if (id !== undefined) queue.push({ left, right, score: this.scores[id]!, size: merged.length });
    };
    for (let index = 1; index < count; index++) tryBigram(index - 1, index);
    while (queue.size > 0) {
      const bigram = queue.pop();
      const { left, right } = bigram;
      // Skip a bigram one of whose symbols has since been merged into another.
      if (lengths[left] === 0 || lengths[right] === 0 || lengths[left]! + lengths[right]! !== bigram.size) continue;
      lengths[left]! += lengths[right]!;
      lengths[right] = 0;
      next[left] = next[right]!;
      if (next[right]! >= 0) previous[next[right]!] = left;
      tryBigram(previous[left]!, left);
      tryBigram(left, next[left]!);
    }
    const ids: number[] = [];
    const encoder = new TextEncoder();
    for (let index = 0; index >= 0; index = next[index]!) {
      const piece = text.slice(starts[index], starts[index]! + lengths[index]!);
      const id = this.pieces.get(piece);
      if (id !== undefined) ids.push(id);
      else for (const byte of encoder.encode(piece)) ids.push(this.byteIds[byte] ?? this.unknownId);
    }
    return ids;
  }

  /** The text of token ids, as Hugging Face's Llama tokenizer decodes them (`skipSpecialTokens` drops `<s>`, `</s>`, `<unk>`). */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const parts: string[] = [];
    let bytes: number[] = [];
    const flushBytes = () => {
      if (bytes.length === 0) return;
      try {
        parts.push(new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes)));
      } catch {
        parts.push("\uFFFD".repeat(bytes.length));
      }
      bytes = [];
    };
    for (const id of ids) {
      const token = this.tokens[id];
      if (token === undefined) throw new Error(`token id ${id} is outside the vocabulary (${this.tokens.length} pieces)`);
      const type = this.types[id];
      if (options.skipSpecialTokens && (type === CONTROL || type === UNKNOWN)) continue;
      const byte = this.byteValues.get(id);
      if (byte !== undefined) {
        bytes.push(byte);
        continue;
      }
      flushBytes();
      parts.push(token.replaceAll(SPACE_MARK, " "));
    }
    flushBytes();
    const text = parts.join("");
    return text.startsWith(" ") ? text.slice(1) : text;
  }
}
