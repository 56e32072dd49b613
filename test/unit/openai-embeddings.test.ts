import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEmbeddings } from "../../src/providers/openai-embeddings.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";

// The OpenAI-compatible /embeddings client against a real loopback server: the request as OpenAI documents
// it, answers put back in input order by their index, and malformed answers refused by name.

let mock: MockLlm;
let answer: unknown;
beforeAll(async () => {
  mock = await startMockLlm(() => ({ status: 200, json: answer }));
});
afterAll(async () => mock.close());

describe("postEmbeddings", () => {
  it("sends model, input and encoding_format, and orders the vectors by index", async () => {
    answer = {
      data: [
        { index: 1, embedding: [0, 1] },
        { index: 0, embedding: [1, 0] },
      ],
    };
    const vectors = await postEmbeddings(mock.url, "embedder", { authorization: "Bearer k" }, ["first", "second"]);
    expect(vectors).toEqual([
      [1, 0],
      [0, 1],
    ]);
    const request = mock.requests.at(-1)!;
    expect(request.path).toBe("/v1/embeddings");
    expect(request.body).toEqual({ model: "embedder", input: ["first", "second"], encoding_format: "float" });
    expect(request.headers.authorization).toBe("Bearer k");
    expect(await postEmbeddings(mock.url, "embedder", {}, [])).toEqual([]);
  });

  it("refuses a wrong count, a vector that is not numbers, and an index out of place", async () => {
    answer = { data: [{ index: 0, embedding: [1] }] };
    await expect(postEmbeddings(mock.url, "e", {}, ["a", "b"])).rejects.toThrow(/answered 1 embeddings for 2 texts/);
    answer = { data: [{ index: 0, embedding: "AAAA" }] };
    await expect(postEmbeddings(mock.url, "e", {}, ["a"])).rejects.toThrow(/embedding 0 is not a list of numbers/);
    answer = {
      data: [
        { index: 0, embedding: [1] },
        { index: 0, embedding: [2] },
      ],
    };
    await expect(postEmbeddings(mock.url, "e", {}, ["a", "b"])).rejects.toThrow(/embedding index 0 is out of place/);
    answer = {};
    await expect(postEmbeddings(mock.url, "e", {}, ["a"])).rejects.toThrow(/answered no embeddings for 1 texts/);
  });
});
