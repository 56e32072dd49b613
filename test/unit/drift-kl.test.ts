import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../src/providers/registry.js";
import type { TokenLogprobs } from "../../src/providers/types.js";
import { denseDrift, largest, statisticsDrift, topKDrift } from "../../src/runner/plans/drift-kl.js";
import { FIDELITY_DECLARATION, runTextDrift } from "../../src/runner/plans/drift-text.js";
import { driftContext } from "../helpers/drift-context.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";

// The per-text drift numbers against values worked out by hand (the formulas are in drift-kl.ts).

/** Dense log-probabilities from rows of probabilities. */
function dense(tokens: number[], rows: number[][]): TokenLogprobs {
  return { tokens: Uint32Array.from(tokens), logprobs: Float32Array.from(rows.flat().map(Math.log)), vocabSize: rows[0]!.length };
}

describe("dense drift of one text", () => {
  it("sums KL, TV, greedy changes, accuracies and log-likelihoods over the scored positions", () => {
    // Tokens 0 1 2: row 0 predicts token 1, row 1 predicts token 2, row 2 (past the text) is not scored.
    const target = dense(
      [0, 1, 2],
      [
        [0.5, 0.3, 0.2],
        [0.1, 0.1, 0.8],
        [1, 0, 0],
      ],
    );
    const base = dense(
      [0, 1, 2],
      [
        [0.4, 0.4, 0.2],
        [0.2, 0.6, 0.2],
        [0, 1, 0],
      ],
    );
    const drift = denseDrift(target, base);
    const kl0 = 0.5 * Math.log(0.5 / 0.4) + 0.3 * Math.log(0.3 / 0.4);
    const kl1 = 0.1 * Math.log(0.1 / 0.2) + 0.1 * Math.log(0.1 / 0.6) + 0.8 * Math.log(0.8 / 0.2);
    expect(drift.tokens).toBe(2);
    expect(drift.kl[0]).toBeCloseTo(kl0, 6);
    expect(drift.kl[1]).toBeCloseTo(kl1, 6);
    expect(drift.klSum).toBeCloseTo(kl0 + kl1, 6);
    expect(drift.tvSum).toBeCloseTo(0.1 + 0.6, 6);
    // Row 0: argmax 0 for both (the base's tie 0.4/0.4 goes to the lower id); row 1: 2 against 1.
    expect(drift.changed).toBe(1);
    expect([drift.hitsTarget, drift.hitsBase]).toEqual([1, 0]);
    expect(drift.llTarget).toBeCloseTo(Math.log(0.3) + Math.log(0.8), 6);
    expect(drift.llBase).toBeCloseTo(Math.log(0.4) + Math.log(0.2), 6);
    expect(largest(drift.kl, 5)).toEqual([1, 0]);
  });

  it("gives exactly 0 for identical rows, counts 0·log 0 as 0, and refuses different tokens", () => {
    const rows = [
      [0.7, 0.3, 0],
      [0.2, 0.5, 0.3],
    ];
    const same = denseDrift(dense([1, 0], rows), dense([1, 0], rows));
    expect([same.klSum, same.tvSum, same.changed]).toEqual([0, 0, 0]);
    // The target gives token 2 no probability, the base 0.1: that token adds nothing to KL(P_t ‖ P_b).
    const zero = denseDrift(
      dense(
        [1, 0],
        [
          [0.6, 0.4, 0],
          [1, 0, 0],
        ],
      ),
      dense(
        [1, 0],
        [
          [0.5, 0.4, 0.1],
          [1, 0, 0],
        ],
      ),
    );
    expect(zero.klSum).toBeCloseTo(0.6 * Math.log(0.6 / 0.5), 6);
    expect(zero.tvSum).toBeCloseTo(0.1, 6);
    expect(() => denseDrift(dense([1, 0], rows), dense([1, 2], rows))).toThrow(/different tokens/);
  });
});

describe("top-k drift of one text", () => {
  it("keeps the tokens both models list, lumps the rest into one tail bucket, and is a lower bound of the exact KL", () => {
    const target = [0.5, 0.3, 0.15, 0.05];
    const base = [0.3, 0.1, 0.2, 0.4];
    const top = (p: number[], k: number) =>
      p
        .map((value, index) => ({ token: `t${index}`, logprob: Math.log(value) }))
        .sort((a, b) => b.logprob - a.logprob)
        .slice(0, k);
    const exact = target.reduce((sum, p, index) => sum + p * Math.log(p / base[index]!), 0);
    // k = 2: the target lists t0, t1; the base t3, t0; the actual token t2 is known in both.
    const approx = topKDrift([{ token: "t2", logprob: Math.log(0.15), top: top(target, 2) }], [{ token: "t2", logprob: Math.log(0.2), top: top(base, 2) }]);
    // Buckets: t0, t2, and the rest (target 0.35, base 0.5).
    const byHand = 0.5 * Math.log(0.5 / 0.3) + 0.15 * Math.log(0.15 / 0.2) + 0.35 * Math.log(0.35 / 0.5);
    expect(approx.klSum).toBeCloseTo(byHand, 12);
    expect(approx.klSum).toBeLessThan(exact);
    expect(approx.tailMass).toBeCloseTo(0.35, 12);
    expect(approx.tvSum).toBeCloseTo((0.2 + 0.05 + 0.15) / 2, 12);
    // All four listed: exact.
    const full = topKDrift([{ token: "t2", logprob: Math.log(0.15), top: top(target, 4) }], [{ token: "t2", logprob: Math.log(0.2), top: top(base, 4) }]);
    expect(full.klSum).toBeCloseTo(exact, 12);
    expect(full.tailMass).toBeCloseTo(0, 12);
  });
});

// An OpenAI-compatible completions server for the approximate path: both models echo "a b c" as three
// tokens with their top-2 log-probabilities (the first position has none), each model its own numbers.
const ECHO: Record<string, Array<Record<string, number> | null>> = {
  ft: [null, { " b": 0.5, " x": 0.3 }, { " c": 0.9, " z": 0.05 }],
  base: [null, { " y": 0.45, " b": 0.4 }, { " c": 0.8, " z": 0.1 }],
};
let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm((request) => {
    const tops = ECHO[String(request.body.model)]!;
    const tokens = ["a", " b", " c"];
    const top_logprobs = tops.map((top) => (top ? Object.fromEntries(Object.entries(top).map(([token, p]) => [token, Math.log(p)])) : null));
    const token_logprobs = tokens.map((token, index) => (top_logprobs[index] ? top_logprobs[index]![token]! : null));
    return { raw: JSON.stringify({ choices: [{ text: request.text, logprobs: { tokens, token_logprobs, top_logprobs, text_offset: [0, 1, 3] } }] }) };
  });
});
afterAll(() => mock.close());

describe("runTextDrift's approximate path (an OpenAI-compatible server's prompt log-probabilities)", () => {
  it("gives the hand-computed lower bound, labelled approximate with the target's tail mass", async () => {
    const registry = new ModelRegistry({ env: {}, providers: { vllm: { type: "openai", base_url: `${mock.url}/v1` } } });
    const result = await runTextDrift(driftContext(registry.resolve("vllm:ft").model, registry.resolve("vllm:base").model, "a b c", { top_k: 2 }));
    expect(mock.requests.every((request) => request.body.echo === true && request.body.logprobs === 2 && request.body.max_tokens === 0)).toBe(true);
    expect(result.response).toBeNull();
    const score = result.scores!.fidelity!;
    // Position 1 (" b"): shared {" b"}, tails 0.5 (ft) and 0.6 (base). Position 2 (" c"): shared {" c", " z"}, tails 0.05 and 0.1.
    const kl1 = 0.5 * Math.log(0.5 / 0.4) + 0.5 * Math.log(0.5 / 0.6);
    const kl2 = 0.9 * Math.log(0.9 / 0.8) + 0.05 * Math.log(0.05 / 0.1) + 0.05 * Math.log(0.05 / 0.1);
    expect(score.value).toBeCloseTo((kl1 + kl2) / 2, 12);
    expect(score.metrics).toMatchObject({ tokens: 2, changed_share: 0.5, acc_target: 1, acc_base: 0.5 });
    expect(score.metrics!.kl_sum).toBeCloseTo(kl1 + kl2, 12);
    expect(score.metrics!.tv_mean).toBeCloseTo((0.5 * (0.1 + 0.1) + 0.5 * (0.1 + 0.05 + 0.05)) / 2, 12);
    expect(score.metrics!.ll_target).toBeCloseTo((Math.log(0.5) + Math.log(0.9)) / 2, 12);
    expect(score.metrics!.ll_base).toBeCloseTo((Math.log(0.4) + Math.log(0.8)) / 2, 12);
    expect(score.data).toMatchObject({ approximate: true, top_k: 2 });
    expect(score.data!.bound).toBeCloseTo((0.5 + 0.05) / 2, 12);
    const top = score.data!.top_kl as Array<{ position: number; token: string; kl: number; context: string }>;
    expect(top.map((entry) => [entry.position, entry.token, entry.context])).toEqual(
      kl1 > kl2
        ? [
            [0, " b", ""],
            [1, " c", " b"],
          ]
        : [
            [1, " c", " b"],
            [0, " b", ""],
          ],
    );
  });

  it("declares its scores, the primary one in nats", () => {
    expect(FIDELITY_DECLARATION.name).toBe("fidelity");
    expect(FIDELITY_DECLARATION.metrics.map((metric) => metric.name)).toEqual(["kl_mean", "kl_sum", "tokens", "changed_share", "tv_mean", "acc_target", "acc_base", "ll_target", "ll_base"]);
  });

  it("refuses a run without a base model, and models with no log-probabilities", async () => {
    const registry = new ModelRegistry({ env: {}, providers: { vllm: { type: "openai", base_url: `${mock.url}/v1` } } });
    const ft = registry.resolve("vllm:ft").model;
    const context = driftContext(ft, ft, "a b c");
    delete context.roles.base;
    await expect(runTextDrift(context)).rejects.toThrow(/needs the base model: give it the role base/);
    const chatOnly = { ...ft, address: "chat:only", tokenDistributions: undefined } as typeof ft;
    await expect(runTextDrift(driftContext(ft, chatOnly, "a b c"))).rejects.toThrow(/which chat:only cannot give/);
  });
});

describe("statisticsDrift: a provider's per-position statistics summed and counted", () => {
  it("sums KL, TV and log-likelihoods, counts changed greedy tokens and hits against the next token", () => {
    // Tokens 1 5 7 5: positions 0..2 predict 5, 7, 5.
    const drift = statisticsDrift({
      tokens: Uint32Array.from([1, 5, 7, 5]),
      vocabSize: 10,
      kl: Float64Array.from([0.5, 0, 0.25]),
      tv: Float64Array.from([0.3, 0, 0.1]),
      llTarget: Float64Array.from([-1, -2, -0.5]),
      llBase: Float64Array.from([-1.5, -2, -3]),
      greedyTarget: Int32Array.from([5, 7, 7]),
      greedyBase: Int32Array.from([4, 7, 5]),
    });
    expect(drift).toMatchObject({ tokens: 3, klSum: 0.75, changed: 2, hitsTarget: 2, hitsBase: 2, llTarget: -3.5, llBase: -6.5 });
    expect(drift.tvSum).toBeCloseTo(0.4, 15);
    expect(Array.from(drift.kl)).toEqual([0.5, 0, 0.25]);
  });
});
