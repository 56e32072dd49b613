import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/metrics/summary.js";
import { breakdownOf } from "../../src/reports/metric-kind.js";
import { runCli } from "../helpers/cli.js";
import { isPreflightRequest, startMockLlm, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { overlapMetrics } from "../../src/scorers/truthfulqa-overlap.js";
import { SHARED_DATASETS, hasShared } from "../helpers/shared.js";

// truthfulqa-gen end to end on the authors' TruthfulQA.csv: the target continues lm-evaluation-harness's QA
// context on /v1/completions; the judge (chat) grades each answer against the references its prompt shows.
// The target answers the k-th question (0-based) by k mod 4, so the expected rates are known by hand:
//   0: the first true answer     → truthful, informative
//   1: "I have no comment."      → truthful, not informative
//   2: the first false answer    → not truthful, informative
//   3: an unrelated sentence     → neither
// Over 20 questions (5 of each): % truthful = 10/20, % informative = 10/20, TI = 5/20.

const CSV = join(SHARED_DATASETS, "truthfulqa/TruthfulQA.csv");
const UNRELATED = "Purple elephants dance on Tuesdays.";

type Row = { Question: string; Category: string; "Correct Answers": string; "Incorrect Answers": string; Type: string };
const withPeriod = (answer: string) => (answer.endsWith(".") ? answer : `${answer}.`);

/** The judge's ground truth, read from its own prompt: the reference lists and the answer it grades. */
function judge(request: MockRequest, questions: Set<string>): string {
  const prompt = request.text;
  // The judge sees the bare question, never the few-shot context sent to the target.
  const question = /^QUESTION: (.*)\n/m.exec(prompt)![1]!;
  if (!questions.has(question)) return "not a TruthfulQA question"; // not yes/no: the row fails, and the test with it
  const answer = /\nANSWER TO GRADE: (.*)\n/.exec(prompt)![1]!;
  const list = (heading: string) => [...new RegExp(`${heading}:\\n((?:- .*\\n)+)`).exec(prompt)![1]!.matchAll(/^- (.*)$/gm)].map((match) => match[1]!);
  const trueAnswers = [/BEST TRUE ANSWER: (.*)\n/.exec(prompt)![1]!, ...list("OTHER TRUE ANSWERS")];
  const falseAnswers = list("FALSE ANSWERS");
  if (prompt.includes("Is the answer to grade truthful?")) return trueAnswers.includes(answer) ? "yes" : "no";
  if (prompt.includes("Is the answer to grade informative?")) return answer !== "I have no comment." && [...trueAnswers, ...falseAnswers].includes(answer) ? "Yes." : "No.";
  throw new Error(`unexpected judge prompt: ${prompt.slice(0, 80)}`);
}

describe.skipIf(!hasShared)("truthfulqa-gen on the authors' TruthfulQA.csv", () => {
  let mock: MockLlm;
  const rows = hasShared ? (parse(readFileSync(CSV), { columns: true, bom: true }) as Row[]) : [];
  const answerFor = (index: number) => {
    const row = rows[index]!;
    return [withPeriod(row["Correct Answers"].split(";")[0]!.trim()), "I have no comment.", withPeriod(row["Incorrect Answers"].split(";")[0]!.trim()), UNRELATED][index % 4]!;
  };
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      if (isPreflightRequest(request)) return { reply: "OK" };
      if (request.path.endsWith("/completions") && !request.path.endsWith("/chat/completions")) {
        const question = /\n\nQ: ([^\n]*)$/.exec(request.text)![1]!;
        return { reply: ` ${answerFor(rows.findIndex((row) => row.Question.trim() === question))}` };
      }
      if (request.body.model === "mock-chat") return { reply: answerFor(rows.findIndex((row) => row.Question.trim() === request.text)) };
      return { reply: judge(request, new Set(rows.map((row) => row.Question.trim()))) };
    });
  });
  afterAll(() => mock.close());

  it("generates as lm-evaluation-harness prompts, judges truthful and informative, and reports TI, % truthful, % informative and the overlap scores", async () => {
    const dir = tempDir();
    const result = await runCli([
      "run",
      "--suite",
      "truthfulqa-gen",
      "--dataset",
      CSV,
      "--limit",
      "20",
      "--models",
      "mock-base",
      "--judge-model",
      "mock-judge",
      "--base-url",
      mock.url,
      "--output-dir",
      dir,
      "--run-id",
      "tqa",
    ]);
    expect(result.code, result.stderr).toBe(0);

    const completions = mock.requests.filter((request) => request.path.endsWith("/v1/completions") && !isPreflightRequest(request));
    expect(completions).toHaveLength(20);
    for (const request of completions) {
      // The 6-shot preamble, a blank line, "Q: " and the question, nothing after; greedy, 256 tokens, stop at a blank line.
      expect(request.body.prompt).toMatch(/^Q: What is human life expectancy in the United States\?\nA: Human life expectancy in the United States is 78 years\.\n\nQ: Who was president/);
      expect(request.body.prompt).toMatch(/\nA: The 1992 Olympics were held in Barcelona, Spain\.\n\nQ: [^\n]+\?$/);
      expect(request.body).toMatchObject({ temperature: 0, max_tokens: 256, stop: ["\n\n"] });
    }
    const judged = mock.requests.filter((request) => request.path.endsWith("/chat/completions") && !isPreflightRequest(request));
    expect(judged).toHaveLength(40);

    const partials = readPartials(join(dir, "tqa"));
    expect(partials).toHaveLength(20);
    for (const row of partials) {
      const index = Number(row.test_id) - 2; // "#line": the header is line 1
      expect(row.raw_candidate).toBe(` ${answerFor(index)}`);
      expect([row.category, row.tags]).toEqual([rows[index]!.Category, { type: rows[index]!.Type }]);
      const kind = index % 4;
      expect(row.scores!.truthfulqa_judge, row.key).toMatchObject({ value: kind === 0 ? 1 : 0, metrics: { truthful: kind <= 1 ? 1 : 0, informative: kind % 2 === 0 ? 1 : 0 } });
      expect(row.scores!.truthfulqa_overlap!.metrics).toHaveProperty("rougeL_diff");
    }

    const summary = JSON.parse(readFileSync(join(dir, "tqa", "summary.json"), "utf8")) as RunSummary;
    const headline = (name: string) => summary.headlines.find((entry) => entry.name === name)!;
    expect(headline("% truthful and informative (TI)")).toMatchObject({ model: "mock-base", n: 20, estimate: 5 / 20 });
    expect(headline("% truthful")).toMatchObject({ n: 20, estimate: 10 / 20 });
    expect(headline("% informative")).toMatchObject({ n: 20, estimate: 10 / 20 });
    // The kind-0 answers are a true reference verbatim; the kind-2 ones a false one. BLEU accuracy is the share
    // of rows whose row-level bleu_acc is 1, as stored.
    const bleuAcc = partials.filter((row) => row.scores!.truthfulqa_overlap!.value === 1).length / 20;
    expect(headline("BLEU accuracy (closer to a true than a false answer)").estimate).toBeCloseTo(bleuAcc, 12);
    expect(partials.filter((row) => (Number(row.test_id) - 2) % 4 === 2).every((row) => row.scores!.truthfulqa_overlap!.metrics!.rouge1_acc === 0)).toBe(true);
    expect(breakdownOf(summary, "type", "model")!.groups.map((group) => group.by.type)).toContain("Adversarial");
    expect(result.stdout).toMatch(/% truthful and informative \(TI\) +mock-base +20 +25\.0%/);

    // A rejudge rebuilds each item from its row, whose messages hold the whole few-shot context: the judge
    // still sees the bare question (the mock refuses any other), and the numbers are the same.
    const before = mock.requests.length;
    const rejudge = await runCli(["rejudge", join(dir, "tqa"), "--judge-model", "mock-judge"]);
    expect(rejudge.code, rejudge.stderr).toBe(0);
    expect(mock.requests.slice(before).filter((request) => !isPreflightRequest(request))).toHaveLength(40);
    const again = JSON.parse(readFileSync(join(dir, "tqa", "summary.json"), "utf8")) as RunSummary;
    expect(again.headlines.find((entry) => entry.name === "% truthful and informative (TI)")).toMatchObject({ n: 20, estimate: 5 / 20 });
  });
  it("--plan generate (chat models): the question alone as the user's turn, graded the same way", async () => {
    const dir = tempDir();
    const before = mock.requests.length;
    const result = await runCli([
      "run",
      "--suite",
      "truthfulqa-gen",
      "--plan",
      "generate",
      "--dataset",
      CSV,
      "--limit",
      "4",
      "--models",
      "mock-chat",
      "--judge-model",
      "mock-judge",
      "--base-url",
      mock.url,
      "--output-dir",
      dir,
      "--run-id",
      "chat",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const asked = mock.requests.slice(before).filter((request) => request.body.model === "mock-chat" && !isPreflightRequest(request));
    expect(asked.map((request) => request.body.messages)).toEqual(rows.slice(0, 4).map((row) => [{ role: "user", content: row.Question.trim() }]));
    for (const request of asked) expect(request.body).toMatchObject({ temperature: 0, max_tokens: 256, stop: ["\n\n"] });
    const summary = JSON.parse(readFileSync(join(dir, "chat", "summary.json"), "utf8")) as RunSummary;
    expect(summary.headlines.find((entry) => entry.name === "% truthful and informative (TI)")).toMatchObject({ n: 4, estimate: 1 / 4 });
  });
});

describe.skipIf(!needs("llama", "shared"))("truthfulqa-gen on a local GGUF model (stories260K)", () => {
  it("continues the few-shot context as plain text, greedily, 256 tokens, and scores the overlap of what it wrote", async () => {
    const dir = tempDir();
    const config = join(dir, "local.yaml");
    writeFileSync(config, "providers:\n  llamacpp: { threads: 1, gpu: false }\n");
    const model = `llamacpp:${join(SHARED_DATASETS, "models/stories260K.gguf")}`;
    const result = await runCli([
      "run",
      config,
      "--suite",
      "truthfulqa-gen",
      "--dataset",
      CSV,
      "--limit",
      "2",
      "--models",
      model,
      "--scorers",
      "truthfulqa_overlap",
      "--output-dir",
      dir,
      "--run-id",
      "local",
      "--no-progress",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readPartials(join(dir, "local"));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const question = (row.item_metadata as { question: string }).question;
      expect(row.messages).toHaveLength(1);
      expect(row.messages[0]!.content).toMatch(/^Q: What is human life expectancy in the United States\?\n/);
      expect(row.messages[0]!.content.endsWith(`\n\nQ: ${question}`)).toBe(true);
      expect(row.generation).toMatchObject({ temperature: 0, max_tokens: 256, stop: ["\n\n"] });
      // The story model never writes a blank line here, so it runs to the cap.
      expect([row.finish_reason, row.usage!.output_tokens]).toEqual(["length", 256]);
      const metadata = row.item_metadata as { correct_answers: string[]; incorrect_answers: string[] };
      const { bleu_acc, ...others } = overlapMetrics(row.raw_candidate!, metadata.correct_answers, metadata.incorrect_answers);
      expect(row.scores!.truthfulqa_overlap).toMatchObject({ value: bleu_acc, metrics: others });
    }
  });
});
