import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, judgedId, startMockLlm, verdict, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// The report of two runs shows every pinned setting they differ in, and each run's --offline record.

describe.skipIf(!CHROMIUM)("run settings in the report", () => {
  let mock: MockLlm;
  let dir: string;
  beforeAll(async () => {
    mock = await startMockLlm((request) => ({ reply: isJudgeRequest(request) ? verdict(judgedId(request), false) : "No." }));
    dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [
      { id: "a", prompt: "one" },
      { id: "b", prompt: "two" },
    ]);
    const common = ["--dataset", dataset, "--models", "target", "--judge-model", "judge", "--base-url", mock.url, "--output-dir", dir, "--no-preflight"];
    for (const [id, extra] of [
      ["base", []],
      ["hotter", ["--temperature", "0.7", "--offline"]],
    ] as const) {
      const result = await runCli(["run", ...common, "--run-id", id, ...extra]);
      expect(result.code, result.stderr).toBe(0);
    }
  });
  afterAll(() => mock?.close());

  it("lists the differing settings in a table, and says the offline run was verified", async () => {
    const output = join(dir, "ab.html");
    expect((await runCli(["report", "base", "hotter", "--output-dir", dir, "--output", output])).code).toBe(0);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const seen = watch(page);
      await page.goto(pathToFileURL(output).href);
      await ready(page);
      const rows = await page.locator(".settings-differences tbody tr").allTextContents();
      expect(rows).toEqual(["model[target].temperaturenull0.7"]);
      expect(await page.locator(".settings-warning").textContent()).toContain("the runs differ in 1 setting that can change scores");
      const offline = await page.locator("table.kv tr", { hasText: "offline" }).allTextContents();
      expect(offline).toEqual([`offlineverified (hosts contacted: ${new URL(mock.url).host})`]);
      expect(seen.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
