import { seededRandom } from "../../common/seeded-random.js";
import { ProviderError } from "../errors.js";
import type { GenerationOptions, TokenDecoder } from "../types.js";

// A token-level mixture of experts that share a vocabulary. At every decoding step each expert i gives its
// next-token distribution P_i (dense, from its decoder) and the mixture's is
//   P(t) = Σ_i w_i P_i(t)            (w: the prompt's routing weights, Σ w_i = 1)
// a proper distribution, since each P_i is one. The next token is argmax P at temperature 0, else a draw
// from P^(1/τ) / Σ P^(1/τ) (τ the request's temperature), cut to its nucleus when top_p < 1, with a seeded
// generator (the request's seed, 0 when none), so a run is repeatable.

/** Generation length when the request sets none: a mixture has no server-side default to fall back on. */
export const DEFAULT_MAX_TOKENS = 512;

/** Σ_i w_i exp(logprobs_i), in double precision. */
export function mixDistributions(rows: readonly Float32Array[], weights: readonly number[]): Float64Array {
  if (rows.length !== weights.length || rows.length === 0) throw new RangeError(`${rows.length} distributions for ${weights.length} weights`);
  const size = rows[0]!.length;
  const mixed = new Float64Array(size);
  rows.forEach((row, expert) => {
    if (row.length !== size) throw new RangeError(`distributions over ${size} and ${row.length} tokens`);
    const weight = weights[expert]!;
    if (weight === 0) return;
    for (let token = 0; token < size; token++) mixed[token]! += weight * Math.exp(row[token]!);
  });
  return mixed;
}

/**
 * The next token from a mixed distribution: argmax at temperature 0 (lowest id on a tie), else a seeded draw
 * from P^(1/τ): over the whole vocabulary in id order (one pass, no sort: a 150k vocabulary costs ~1 ms a
 * token), or, with top_p < 1, over the nucleus — the most likely tokens whose mass reaches top_p.
 */
export function pickToken(probabilities: Float64Array, options: GenerationOptions, random: () => number): number {
  const temperature = options.temperature ?? 0;
  const size = probabilities.length;
  if (temperature <= 0) {
    let best = 0;
    for (let token = 1; token < size; token++) if (probabilities[token]! > probabilities[best]!) best = token;
    return best;
  }
  // P^(1/τ), scaled by the largest value first so nothing overflows or underflows wholesale.
  let max = 0;
  for (let token = 0; token < size; token++) if (probabilities[token]! > max) max = probabilities[token]!;
  const tempered = new Float64Array(size);
  let total = 0;
  for (let token = 0; token < size; token++) {
    const value = probabilities[token]! > 0 ? (probabilities[token]! / max) ** (1 / temperature) : 0;
    tempered[token] = value;
    total += value;
  }
  const topP = options.top_p ?? 1;
  let candidates: ArrayLike<number>;
  let mass = total;
  if (topP < 1) {
    const order = Array.from({ length: size }, (_, token) => token).filter((token) => tempered[token]! > 0);
    order.sort((a, b) => tempered[b]! - tempered[a]! || a - b);
    let kept = 0;
    mass = 0;
    while (kept < order.length && mass < topP * total) mass += tempered[order[kept++]!]!;
    candidates = order.slice(0, Math.max(1, kept));
  } else candidates = { length: size };
  let draw = random() * mass;
  let last = 0;
  for (let index = 0; index < candidates.length; index++) {
    const token = topP < 1 ? candidates[index]! : index;
    if (tempered[token] === 0) continue;
    last = token;
    draw -= tempered[token]!;
    if (draw < 0) return token;
  }
  return last;
}

export interface MixedGeneration {
  text: string;
  tokens: number[];
  finishReason: "stop" | "length";
}

/**
 * Decodes from the mixture of `decoders` (weights in the same order; experts with weight 0 may be left out
 * by the caller) after `prompt`, until an end token, `max_tokens`, or a stop string (cut off, as servers do).
 */
export async function generateMixed(
  decoders: readonly TokenDecoder[],
  weights: readonly number[],
  prompt: readonly number[],
  options: GenerationOptions,
  signal?: AbortSignal,
): Promise<MixedGeneration> {
  const lead = decoders[0]!;
  const maxTokens = options.max_tokens ?? DEFAULT_MAX_TOKENS;
  const random = seededRandom(options.seed ?? 0);
  const stops = (options.stop ?? []).filter((stop) => stop !== "");
  const tokens = [...prompt];
  const generated: number[] = [];
  while (generated.length < maxTokens) {
    if (signal?.aborted) throw new ProviderError("cancelled", "generation cancelled");
    const rows = await Promise.all(decoders.map((decoder) => decoder.next(tokens, signal)));
    const token = pickToken(mixDistributions(rows, weights), options, random);
    if (lead.isEnd(token)) return { text: whole(lead.text(generated, prompt)), tokens: generated, finishReason: "stop" };
    generated.push(token);
    tokens.push(token);
    if (stops.length > 0) {
      const text = lead.text(generated, prompt);
      const cut = firstStop(text, stops);
      if (cut !== undefined) return { text: text.slice(0, cut), tokens: generated, finishReason: "stop" };
    }
  }
  return { text: whole(lead.text(generated, prompt)), tokens: generated, finishReason: "length" };
}

/**
 * The text without a character cut in half at its end (byte tokens of a multi-byte UTF-8 character, when
 * generation stops between them), which decodes as U+FFFD: dropped, as node-llama-cpp's own generation does.
 */
function whole(text: string): string {
  return text.replace(/\uFFFD+$/u, "");
}

function firstStop(text: string, stops: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}
