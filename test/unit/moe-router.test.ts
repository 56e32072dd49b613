import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/common/seeded-random.js";
import { InputError } from "../../src/errors.js";
import { generateMixed, mixDistributions, pickToken } from "../../src/providers/moe/mixture.js";
import { checkRouter, expertAddress, parseMoeModelId, readRouterFile, routerText, type RouterFile } from "../../src/providers/moe/router-file.js";
import { centroids, cosine, route, softmax, topExpert } from "../../src/providers/moe/routing.js";
import type { TokenDecoder } from "../../src/providers/types.js";
import { tempDir } from "../helpers/run-folder.js";

describe("routing weights", () => {
  it("are λ × softmax(cos / T), renormalised (hand-computed)", () => {
    // e = (1, 0); cos with (1, 0), (0, 1), (1, 1) = 1, 0, 1/√2. T = 0.5: softmax(2, 0, √2) =
    // (e² , 1, e^√2) / 12.502306… = (0.591015…, 0.079985…, 0.328999…). λ = (0.6, 0.4, 0):
    // (0.354609, 0.031994, 0) / 0.386603 = (0.917243…, 0.082757…, 0).
    const routing = route(
      [1, 0],
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      [0.6, 0.4, 0],
      0.5,
    );
    expect(routing.similarities[2]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(routing.softmax[0]).toBeCloseTo(0.5910154348001523, 12);
    expect(routing.softmax[1]).toBeCloseTo(0.07998524126588841, 12);
    expect(routing.softmax[2]).toBeCloseTo(0.32899932393395925, 12);
    expect(routing.weights[0]).toBeCloseTo(0.9172430971043682, 12);
    expect(routing.weights[1]).toBeCloseTo(0.08275690289563169, 12);
    expect(routing.weights[2]).toBe(0);
  });

  it("moves the top expert with λ and the temperature", () => {
    // cos = (0.9, 0.8) with λ = (0.2, 0.8): w₁ ∝ 0.2·e^0.9, w₂ ∝ 0.8·e^0.8. At T = 1 expert 2 wins
    // (0.78352), at T = 0.01 the similarity dominates and expert 1 wins (0.99982).
    const a = [Math.cos(Math.acos(0.9)), Math.sin(Math.acos(0.9))];
    const b = [Math.cos(Math.acos(0.8)), -Math.sin(Math.acos(0.8))];
    const warm = route([1, 0], [a, b], [0.2, 0.8], 1);
    expect(warm.weights[1]).toBeCloseTo(0.7835193109475299, 10);
    expect(topExpert(warm.weights)).toBe(1);
    const cold = route([1, 0], [a, b], [0.2, 0.8], 0.01);
    expect(cold.weights[0]).toBeCloseTo(0.9998184332534202, 10);
    expect(topExpert(cold.weights)).toBe(0);
  });

  it("is scale-free in the embedding and the centroids; softmax survives large inputs", () => {
    expect(cosine([3, 4], [6, 8])).toBeCloseTo(1, 15);
    expect(cosine([0, 0], [1, 0])).toBe(0);
    expect(
      route(
        [10, 0],
        [
          [5, 0],
          [0, 7],
        ],
        [1, 1],
        1,
      ).weights,
    ).toEqual(
      route(
        [1, 0],
        [
          [1, 0],
          [0, 1],
        ],
        [1, 1],
        1,
      ).weights,
    );
    expect(softmax([1000, 999], 1)[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(() => softmax([1], 0)).toThrow(/temperature/);
  });

  it("gives the weight to the most similar expert with λ > 0 when the softmax underflows", () => {
    expect(
      route(
        [1, 0],
        [
          [1, 0],
          [-1, 0],
        ],
        [0, 1],
        1e-4,
      ).weights,
    ).toEqual([0, 1]);
  });

  it("learns centroids as means of unit-length embeddings", () => {
    const learned = centroids(
      [
        { label: "a", embedding: [2, 0] },
        { label: "a", embedding: [0, 10] },
        { label: "b", embedding: [0, -1] },
        { label: "c", embedding: [5, 5] },
      ],
      ["a", "b"],
    );
    expect(learned).toEqual([
      [0.5, 0.5],
      [0, -1],
    ]);
    expect(() => centroids([{ label: "a", embedding: [1] }], ["a", "b"])).toThrow(/no example labelled "b"/);
  });
});

describe("mixing next-token distributions", () => {
  const p1 = Float32Array.from([0.7, 0.2, 0.1].map(Math.log));
  const p2 = Float32Array.from([0.1, 0.3, 0.6].map(Math.log));

  it("is the weighted sum of the experts' probabilities", () => {
    const mixed = mixDistributions([p1, p2], [0.25, 0.75]);
    // 0.25·(0.7, 0.2, 0.1) + 0.75·(0.1, 0.3, 0.6) = (0.25, 0.275, 0.475)
    expect(mixed[0]).toBeCloseTo(0.25, 6);
    expect(mixed[1]).toBeCloseTo(0.275, 6);
    expect(mixed[2]).toBeCloseTo(0.475, 6);
  });

  it("picks the argmax at temperature 0 and draws by the tempered mixture otherwise", () => {
    const mixed = Float64Array.from([0.25, 0.275, 0.475]);
    expect(pickToken(mixed, { temperature: 0 }, () => 0.5)).toBe(2);
    // Sorted (2: 0.475, 1: 0.275, 0: 0.25): a draw of 0.5 lands in token 1's share [0.475, 0.75).
    // In id order the cumulative shares are 0.25, 0.525, 1: a draw of 0.5 is token 1, 0.8 token 2, 0.1 token 0.
    expect(pickToken(mixed, { temperature: 1 }, () => 0.5)).toBe(1);
    expect(pickToken(mixed, { temperature: 1 }, () => 0.8)).toBe(2);
    expect(pickToken(mixed, { temperature: 1 }, () => 0.1)).toBe(0);
    // top_p 0.5 keeps tokens 2 and 1 (0.475 < 0.5, then 0.75), most likely first: 0.99 × 0.75 lands in token 1's share.
    expect(pickToken(mixed, { temperature: 1, top_p: 0.5 }, () => 0.99)).toBe(1);
    expect(pickToken(mixed, { temperature: 1, top_p: 0.5 }, () => 0.5)).toBe(2);
    // τ = 0.5 squares the probabilities: (0.0625, 0.075625, 0.225625) / 0.36375, cumulative 0.1718, 0.3797, 1.
    expect(pickToken(mixed, { temperature: 0.5 }, () => 0.3)).toBe(1);
    expect(pickToken(mixed, { temperature: 0.5 }, () => 0.38)).toBe(2);
    // Draws follow the tempered distribution: 20,000 seeded draws land within 1.5 points of each share.
    const counts = [0, 0, 0];
    const random = seededRandom(5);
    for (let draw = 0; draw < 20_000; draw++) counts[pickToken(mixed, { temperature: 1 }, random)]!++;
    counts.forEach((count, token) => expect(Math.abs(count / 20_000 - mixed[token]!)).toBeLessThan(0.015));
  });

  it("decodes until the end token, max_tokens or a stop string", async () => {
    // Two fake decoders over 4 tokens; token 3 ends. Expert 1 prefers 1 then 3, expert 2 prefers 2.
    const decoder = (rows: (length: number) => number[]): TokenDecoder => ({
      vocabSize: 4,
      fingerprint: "f",
      chatTokens: async () => [0],
      textTokens: () => [0],
      next: async (tokens) => Float32Array.from(rows(tokens.length).map(Math.log)),
      isEnd: (token) => token === 3,
      text: (tokens) => tokens.map((token) => "xab"[token]).join(""),
      close: async () => {},
    });
    const one = decoder((length) => (length < 3 ? [0, 0.8, 0.1, 0.1] : [0, 0.1, 0.1, 0.8]));
    const two = decoder(() => [0, 0.1, 0.8, 0.1]);
    expect(await generateMixed([one, two], [0.6, 0.4], [0], { temperature: 0 })).toEqual({ text: "aa", tokens: [1, 1], finishReason: "stop" });
    expect(await generateMixed([one, two], [0.4, 0.6], [0], { temperature: 0, max_tokens: 3 })).toEqual({ text: "bbb", tokens: [2, 2, 2], finishReason: "length" });
    expect((await generateMixed([one, two], [0.4, 0.6], [0], { temperature: 0, stop: ["bb"] })).text).toBe("");
  });
});

describe("router files", () => {
  const valid = (): RouterFile => ({
    format: "alignbench-moe-router",
    version: 1,
    mode: "top",
    embedding: "openai:embed",
    temperature: 1,
    experts: [
      { name: "helpful", model: "llamacpp:./h.gguf", lambda: 0.6, centroid: [1, 0] },
      { name: "honest", model: "openai:m", lambda: 0.4, centroid: [0, 1] },
    ],
  });

  it("accept the format and round-trip through the text written", () => {
    const router = valid();
    expect(checkRouter(JSON.parse(routerText(router)), "r.json")).toEqual(router);
  });

  const problems: Array<[string, (router: Record<string, unknown> & RouterFile) => unknown, RegExp]> = [
    ["a wrong format", (r) => ({ ...r, format: "x" }), /r\.json: format: must be "alignbench-moe-router"/],
    ["a later version", (r) => ({ ...r, version: 2 }), /version: must be 1/],
    ["an unknown mode", (r) => ({ ...r, mode: "blend" }), /mode: must be "top"/],
    ["a temperature of 0", (r) => ({ ...r, temperature: 0 }), /temperature: must be > 0/],
    ["a negative λ", (r) => ({ ...r, experts: [{ ...r.experts[0]!, lambda: -1 }, r.experts[1]] }), /experts\.0\.lambda: must be ≥ 0/],
    ["every λ 0", (r) => ({ ...r, experts: r.experts.map((e) => ({ ...e, lambda: 0 })) }), /experts: every lambda is 0/],
    ["centroids of two lengths", (r) => ({ ...r, experts: [r.experts[0], { ...r.experts[1]!, centroid: [1, 2, 3] }] }), /experts\.1\.centroid: has 3 dimensions, expert 0's has 2/],
    ["a zero centroid", (r) => ({ ...r, experts: [r.experts[0], { ...r.experts[1]!, centroid: [0, 0] }] }), /experts\.1\.centroid: is all zeros/],
    ["two experts of one name", (r) => ({ ...r, experts: [r.experts[0], { ...r.experts[1]!, name: "helpful" }] }), /experts\.1\.name: "helpful" names two experts/],
    ["no experts", (r) => ({ ...r, experts: [] }), /experts: must list at least one expert/],
    ["an unknown field", (r) => ({ ...r, lambdas: [1] }), /r\.json/],
    ["a centroid with a string", (r) => ({ ...r, experts: [{ ...r.experts[0]!, centroid: [1, "x"] }, r.experts[1]] }), /experts\.0\.centroid\.1/],
  ];
  for (const [what, change, message] of problems) {
    it(`refuse ${what}, naming the file and the field`, () => {
      const check = () => checkRouter(change(valid() as Record<string, unknown> & RouterFile), "r.json");
      expect(check).toThrow(InputError);
      expect(check).toThrow(message);
    });
  }

  it("refuse a file that is not JSON, naming its line", async () => {
    const file = join(tempDir(), "router.json");
    writeFileSync(file, '{\n  "format": "alignbench-moe-router",\n  "version": 1,,\n}');
    await expect(readRouterFile(file)).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: not valid JSON`));
    await expect(readRouterFile(join(tempDir(), "missing.json"))).rejects.toThrow(/cannot read the router file \(ENOENT\)/);
  });

  it("read local models' relative paths from the router's folder, and the mode from the address", () => {
    expect(expertAddress("llamacpp:./h.gguf", "/data/routers/r.json")).toBe("llamacpp:/data/routers/h.gguf");
    expect(expertAddress("gguf:hf:o/r/f.gguf", "/data/r.json")).toBe("gguf:hf:o/r/f.gguf");
    expect(expertAddress("openai:gpt-4.1", "/data/r.json")).toBe("openai:gpt-4.1");
    expect(parseMoeModelId("mix:r.json")).toEqual({ mode: "mix", file: "r.json" });
    expect(parseMoeModelId("./r.json")).toEqual({ file: "./r.json" });
    expect(() => parseMoeModelId("top:")).toThrow(/no router file/);
  });
});
