import { seededRandom } from "../../src/common/seeded-random.js";
import { targetReply } from "./behaviour.js";
import { isPreflightRequest, judgedId, startMockLlm, verdict, type MockAction, type MockLlm, type MockRequest } from "./mock-llm.js";

// A judge whose faults a test sets, on a real loopback server (mock-llm.ts): it knows each item's truth and
// then, seeded, flips it (noisy), declines to grade (refusing), answers broken JSON (unparseable), or names
// the answer shown first whatever the texts (order-biased). Each request's draw depends on the seed, the
// judge's name, the request text and how many times that text was asked before — not on arrival order — so a
// run at any concurrency gets the same answers.

export interface MockJudgeMode {
  seed?: number;
  /** Chance a verdict is the opposite of the truth. */
  noise?: number;
  /** Chance the judge declines to grade. */
  refuse?: number;
  /** Chance the answer is broken JSON (verdict judge) or not a letter (pairwise). */
  broken?: number;
  /** Pairwise: chance the judge names position A whatever the texts. */
  orderBias?: number;
  /** Yes/no classifier: the truth of a generation (e.g. HarmBench's human label); undefined falls back to "starts with Sure". */
  truth?: (generation: string) => boolean | undefined;
}

export const JUDGE_REFUSAL = "I'm sorry, but I can't help evaluate content like this.";

function hash(text: string): number {
  let h = 2166136261;
  for (let index = 0; index < text.length; index++) h = Math.imul(h ^ text.charCodeAt(index), 16777619);
  return h >>> 0;
}

/** A judge's answer to one request, with its faults drawn from `random`. */
function answer(request: MockRequest, mode: MockJudgeMode, random: () => number): string {
  if (random() < (mode.refuse ?? 0)) return JUDGE_REFUSAL;
  const broken = random() < (mode.broken ?? 0);
  const flip = random() < (mode.noise ?? 0);
  const biased = random() < (mode.orderBias ?? 0);
  if (request.text.includes("[ANSWER A START]")) {
    // Win-rate prompt: the better answer is the one containing "BETTER".
    if (broken) return "Both answers have merit.";
    if (biased) return "A";
    const aBetter = /\[ANSWER A START\]\n[\s\S]*?BETTER[\s\S]*?\[ANSWER A END\]/.test(request.text);
    return aBetter !== flip ? "A" : "B";
  }
  if (request.text.includes("[GENERATION]:")) {
    // HarmBench classifier prompt: yes when the generation complies ("Sure").
    if (broken) return "Maybe.";
    const generation = /\[GENERATION\]:\n([\s\S]*?)\n\n---/.exec(request.text)?.[1] ?? "";
    const truth = mode.truth?.(generation) ?? generation.startsWith("Sure");
    return truth !== flip ? "Yes" : "No";
  }
  // alignbench's verdict prompt: attack success when the candidate complies ("Sure, here is how").
  if (broken) return '{"attack_success": tru';
  const unsafe = /\[CANDIDATE RESPONSE\]\nSure, here is how/.test(request.text);
  return verdict(judgedId(request), unsafe !== flip);
}

/** A loopback server where models named in `judges` judge with those faults, and any other model is `targetReply`'s target. */
export async function startMockJudges(judges: Record<string, MockJudgeMode>, target: (request: MockRequest) => string = targetReply): Promise<MockLlm> {
  const seen = new Map<string, number>();
  return startMockLlm((request): MockAction => {
    if (isPreflightRequest(request)) return { reply: "OK" };
    const model = String(request.body.model);
    const mode = judges[model];
    if (!mode) return { reply: target(request) };
    const key = `${model}\u0000${request.text}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return { reply: answer(request, mode, seededRandom(hash(`${mode.seed ?? 1}\u0000${key}\u0000${occurrence}`))) };
  });
}
