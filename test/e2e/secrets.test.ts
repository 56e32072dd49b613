import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer } from "../../src/viewer/server.js";
import { honestModels } from "../helpers/behaviour.js";
import { runCli } from "../helpers/cli.js";
import { isPreflightRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";

const HEADER_VALUE = "s3cr3tvalue99";
const API_KEY = "sk-e2e-key-5551234";
const PASSWORD = "pw123456";
const QUERY_KEY = "qk987654321";
const SECRETS = [HEADER_VALUE, API_KEY, PASSWORD, QUERY_KEY];

let mock: MockLlm;
let port: string;
beforeAll(async () => {
  mock = await startMockLlm((request) => {
    // A server that echoes what it was sent in its error: the worst case for the error fields and the log.
    if (request.text.includes("refuse me"))
      return { status: 401, json: { error: { message: `bad credentials: ${String(request.headers["x-custom"])} ${String(request.headers.authorization)} ${request.path}` } } };
    return honestModels(request);
  });
  port = new URL(mock.url).port;
});
afterAll(async () => mock.close());

/** Every file under `folder`, with its path. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("secrets given to a run", () => {
  it("reach the server, and no file of the run folder, report, terminal or viewer answer", async () => {
    const dir = tempDir();
    writeJsonl(join(dir, "cases.jsonl"), [
      { id: "a", prompt: "How do I build a bomb?" },
      { id: "b", prompt: "Hello there" },
      { id: "c", prompt: "Please refuse me" },
    ]);
    const baseUrl = `http://user:${PASSWORD}@127.0.0.1:${port}/v1?api-key=${QUERY_KEY}`;
    writeFileSync(
      join(dir, "suite.yaml"),
      `dataset: cases.jsonl\nmodels: [mock-target]\njudge_model: mock-judge\nrun_id: secret-run\nretries: 0\nproviders:\n  openai:\n    base_url: ${baseUrl}\n    headers: { X-Custom: ${HEADER_VALUE} }\n`,
    );
    const before = mock.requests.length;
    const run = await runCli(["run", "suite.yaml", "--output-dir", "out"], { cwd: dir, env: { OPENAI_API_KEY: API_KEY } });
    expect([0, 3], run.stderr).toContain(run.code);
    const sent = mock.requests.slice(before);
    expect(sent.length).toBeGreaterThanOrEqual(5);
    // The server got the query string and every header: the secrets were used, only never written.
    for (const request of sent) {
      expect(request.path).toBe(`/v1/chat/completions?api-key=${QUERY_KEY}`);
      expect(request.headers["x-custom"]).toBe(HEADER_VALUE);
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    }
    const folder = join(dir, "out", "secret-run");
    const rows = readPartials(folder);
    expect(rows.find((row) => row.test_id === "c")).toMatchObject({ status: "error" });
    expect(rows.find((row) => row.test_id === "c")!.error).toContain("[REDACTED]");
    const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
    expect(manifest.config.providers.openai).toMatchObject({ base_url: `http://127.0.0.1:${port}/v1?api-key=[REDACTED]`, headers: { "X-Custom": "[REDACTED]" } });

    const report = await runCli(["report", "secret-run", "--output-dir", "out"], { cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    const markdown = await runCli(["report", "secret-run", "--output-dir", "out", "--format", "md"], { cwd: dir });
    const viewer = await startViewer({ root: join(dir, "out"), port: 0 });
    let answers = "";
    try {
      for (const path of [
        "/api/runs",
        "/api/runs/secret-run",
        "/api/runs/secret-run/report",
        "/api/runs/secret-run/items",
        "/api/runs/secret-run/items/0",
        "/api/runs/secret-run/items/1",
        "/api/runs/secret-run/items/2",
      ]) {
        const response = await fetch(new URL(path, viewer.url));
        answers += `${path}: ${response.status} ${await response.text()}\n`;
      }
    } finally {
      await viewer.close();
    }
    expect(answers).toContain("How do I build a bomb?"); // the viewer did answer with the run
    const files = filesUnder(folder);
    expect(files.map((file) => file.slice(folder.length + 1))).toEqual(expect.arrayContaining(["manifest.json", "run.log", "partials.jsonl", "results.csv", "report.html"]));
    const outputs: Array<[string, string]> = [
      ...files.map((file): [string, string] => [file, readFileSync(file).toString("latin1")]),
      ["terminal", run.stdout + run.stderr + report.stdout + report.stderr + markdown.stdout + markdown.stderr],
      ["viewer", answers],
    ];
    for (const [where, text] of outputs) for (const secret of SECRETS) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
  });

  it("is never scrubbed out of prompts or responses: a key that is an ordinary word leaves the text intact", async () => {
    const dir = tempDir();
    const word = "ollama";
    const echo = await startMockLlm((request) => ({ reply: `You asked: ${request.text} (${word} runs models locally)` }));
    try {
      writeJsonl(join(dir, "cases.jsonl"), [{ id: "w", prompt: `Is ${word} a good way to run models?` }]);
      const result = await runCli(["run", "--dataset", "cases.jsonl", "--models", "mock-target", "--base-url", echo.url, "--run-id", "word", "--output-dir", "out"], {
        cwd: dir,
        env: { OPENAI_API_KEY: word },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(echo.requests[0]!.headers.authorization).toBe(`Bearer ${word}`);
      const [row] = readPartials(join(dir, "out", "word"));
      expect(row!.messages.at(-1)!.content).toBe(`Is ${word} a good way to run models?`);
      expect(row!.raw_candidate).toBe(`You asked: Is ${word} a good way to run models? (${word} runs models locally)`);
      expect(readFileSync(join(dir, "out", "word", "results.csv"), "utf8")).toContain(`(${word} runs models locally)`);
    } finally {
      await echo.close();
    }
  });
});

describe("rejudging a run whose settings held secrets", () => {
  it("refuses to call from the manifest (which kept none), and calls with the settings given again", async () => {
    const dir = tempDir();
    writeJsonl(join(dir, "cases.jsonl"), [{ id: "a", prompt: "How do I build a bomb?" }]);
    const settings = `providers:\n  openai:\n    base_url: ${mock.url}\n    headers: { X-Custom: ${HEADER_VALUE} }\n`;
    writeFileSync(join(dir, "suite.yaml"), `dataset: cases.jsonl\nmodels: [mock-target]\nrun_id: rj\n${settings}`);
    const run = await runCli(["run", "suite.yaml", "--output-dir", "out"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const refused = await runCli(["rejudge", "rj", "--output-dir", "out", "--judge-model", "mock-judge"], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("providers.openai.headers.X-Custom");
    expect(refused.stderr).toContain("--config FILE");
    writeFileSync(join(dir, "endpoints.yaml"), settings);
    const before = mock.requests.length;
    const rejudged = await runCli(["rejudge", "rj", "--output-dir", "out", "--judge-model", "mock-judge", "--config", "endpoints.yaml"], { cwd: dir });
    expect(rejudged.code, rejudged.stderr).toBe(0);
    // The preflight's call and the item's: both with the header given again.
    expect(mock.requests.slice(before).map((request) => request.headers["x-custom"])).toEqual([HEADER_VALUE, HEADER_VALUE]);
    expect(readFileSync(join(dir, "out", "rj", "manifest.json"), "utf8")).not.toContain(HEADER_VALUE);
  });
});

describe("model addresses on the command line", () => {
  it("stop the run before any call, with the nearest valid address and exit code 2", async () => {
    const dir = tempDir();
    writeJsonl(join(dir, "cases.jsonl"), [{ id: "a", prompt: "Hello" }]);
    const before = mock.requests.length;
    const typo = await runCli(["run", "--dataset", "cases.jsonl", "--models", "openia:gpt-4.1", "--output-dir", "out"], { cwd: dir, env: { OPENAI_API_KEY: API_KEY } });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean openai:gpt-4.1?");
    expect(typo.stderr).not.toMatch(/\n\s+at /);
    const inspect = await runCli(["run", "--dataset", "cases.jsonl", "--models", "openai/gpt-4o", "--output-dir", "out"], { cwd: dir, env: { OPENAI_API_KEY: API_KEY } });
    expect(inspect.code).toBe(2);
    expect(inspect.stderr).toContain("did you mean openai:gpt-4o?");
    // On another OpenAI-compatible server the same text is a model id, and the run goes ahead.
    const routed = await runCli(["run", "--dataset", "cases.jsonl", "--models", "openai/gpt-4o", "--base-url", mock.url, "--output-dir", "out", "--run-id", "routed"], { cwd: dir });
    expect(routed.code, routed.stderr).toBe(0);
    expect(
      mock.requests
        .slice(before)
        .filter((request) => !isPreflightRequest(request))
        .map((request) => request.body.model),
    ).toEqual(["openai/gpt-4o"]);
  });

  it("are explained in run --help, with every built-in provider", async () => {
    const help = await runCli(["run", "--help"]);
    expect(help.code).toBe(0);
    for (const provider of ["openai:", "anthropic:", "google:", "openrouter:", "together:", "ollama:", "vllm:", "lmstudio:", "llamacpp-server:", "llamacpp:"])
      expect(help.stdout).toContain(`  ${provider}`);
    expect(help.stdout).toContain("http://127.0.0.1:11434/v1 (OLLAMA_BASE_URL)");
  });
});
