import type { GenerationOptions, ModelCall } from "../providers/types.js";
import { ClassifierJudge } from "./classifier-judge.js";

// A pairwise comparison asked in both orders. A model asked "which is better, A or B?" favours a position
// (often the first) whatever the texts; asking again with the texts swapped and combining the two answers
// cancels that bias, and how often the answers disagree measures it. Generic: any model call (the model under
// test judging preference pairs, a judge model comparing a target with a baseline), any prompt with
// {response_a} and {response_b}, any two texts.

/** The position an answer prefers, or a tie where the prompt allows one. */
export type PairwisePick = "A" | "B" | "tie";

/** Which of the two texts (as given, not as shown) an answer prefers. */
export type PairwisePreferred = "first" | "second" | "tie";

export interface PairwiseRequest {
  call: ModelCall;
  /** The prompt, with {response_a} and {response_b} and any of `fields`' names as placeholders. */
  template: string;
  /** The other placeholders' values (the instruction, the dialogue…). */
  fields?: Record<string, string>;
  /** The two texts compared: `first` is shown as A in the first order and as B in the second. */
  first: string;
  second: string;
  /** Reads an answer; undefined for one that is not an answer, which is an error, never a guess. Default: A or B alone. */
  parse?: (answer: string) => PairwisePick | undefined;
  /** What `parse` accepts, for the error. */
  expected?: string;
  options?: GenerationOptions;
  signal?: AbortSignal;
}

export interface PairwiseOrder {
  /** Which text was shown as A. */
  shownFirst: "first" | "second";
  pick: PairwisePick;
  preferred: PairwisePreferred;
  answer: string;
}

export interface PairwiseComparison {
  /** The two orders' answers (A/B first), or none when the texts are identical. */
  orders: PairwiseOrder[];
  /** Identical texts are a tie, asked nothing. */
  identical: boolean;
  /** The first text's share of the two orders, a tie counting ½: 1 (preferred in both), ½ (split or tie) or 0. */
  preference: number;
  /** Of the answers that picked a position, the share that picked A; null when none did. */
  firstPositionRate: number | null;
  /** Whether both orders preferred the same text (a tie in both counts); null for identical texts. */
  consistent: boolean | null;
}

/** A strict A or B: the answer is the letter alone, optionally "Response A", in quotes or bold, with a full stop. */
export function parsePairwisePick(answer: string): PairwisePick | undefined {
  const match = /^[\s"'`*(]*(?:response\s+)?([AB])[\s"'`*).]*$/i.exec(answer);
  return match ? (match[1]!.toUpperCase() as "A" | "B") : undefined;
}

const share = (order: PairwiseOrder) => (order.preferred === "first" ? 1 : order.preferred === "tie" ? 0.5 : 0);

/** Combines the two orders' answers (pure, so it is checked by hand). */
export function combineOrders(orders: PairwiseOrder[]): Omit<PairwiseComparison, "orders" | "identical"> {
  const picked = orders.filter((order) => order.pick !== "tie");
  return {
    preference: orders.reduce((sum, order) => sum + share(order), 0) / orders.length,
    firstPositionRate: picked.length === 0 ? null : picked.filter((order) => order.pick === "A").length / picked.length,
    consistent: orders.every((order) => order.preferred === orders[0]!.preferred),
  };
}

/** Asks `call` to compare the two texts in both orders (A/B, then swapped) and combines the answers. */
export async function compareBothOrders(request: PairwiseRequest): Promise<PairwiseComparison> {
  if (request.first === request.second) return { orders: [], identical: true, preference: 0.5, firstPositionRate: null, consistent: null };
  const judge = new ClassifierJudge(request.call, request.template, request.parse ?? parsePairwisePick, request.options ?? { temperature: 0, max_tokens: 8 }, request.expected ?? "A or B");
  const orders: PairwiseOrder[] = [];
  for (const shownFirst of ["first", "second"] as const) {
    const [a, b] = shownFirst === "first" ? [request.first, request.second] : [request.second, request.first];
    const verdict = await judge.classify({ ...request.fields, response_a: a, response_b: b }, request.signal);
    const preferred: PairwisePreferred = verdict.label === "tie" ? "tie" : (verdict.label === "A") === (shownFirst === "first") ? "first" : "second";
    orders.push({ shownFirst, pick: verdict.label, preferred, answer: verdict.raw });
  }
  return { orders, identical: false, ...combineOrders(orders) };
}
