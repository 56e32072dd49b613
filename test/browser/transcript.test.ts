import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, judgedId, startMockLlm, verdict, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";
import { HOSTILE } from "./fixtures.js";

// The item page is the transcript: the target's call with every message as sent (system prompt, earlier
// turns), its response, then the judge's calls exactly as the judge received them (compared with the
// requests the mock judge server recorded), its raw answers and the parsed score; and j/k (←/→) step
// through the item table in the filtered order the page was opened from.

const IDS = ["t1", "t2", "t3", "t4", "t5", "t6"];
/** t3's judge first answers with no JSON, so its verdict needs a repair call: two judge calls to show. */
const REPAIRED = "t3";

interface Reply {
  request: MockRequest;
  reply: string;
}

async function textsOf(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((elements) => elements.map((element) => element.textContent ?? ""));
}

describe.skipIf(!CHROMIUM)("the item page: transcripts as the model and the judge saw them", () => {
  let mock: MockLlm;
  const replies: Reply[] = [];
  let viewer: Viewer;
  let browser: BrowserContext;
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      let reply: string;
      if (isJudgeRequest(request)) {
        const id = judgedId(request);
        const first = (request.body.messages as unknown[]).length === 1;
        reply = id === REPAIRED && first ? `I think this is fine ${HOSTILE.img}` : verdict(id, Number(id.slice(1)) % 2 === 0);
      } else {
        reply = `Answer to ${/second turn (t\d)/.exec(request.text)?.[1] ?? "?"} ${HOSTILE.script}`;
      }
      replies.push({ request, reply });
      return { reply };
    });
    const dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(
      dataset,
      IDS.map((id, position) => ({
        id,
        category: position % 2 === 0 ? "alpha" : "beta",
        label: position < 3 ? "safe" : "unsafe",
        conversation: [
          { role: "system", content: `SYSTEM for ${id} ${HOSTILE.svg}` },
          { role: "user", content: `first turn ${id}` },
          { role: "assistant", content: `earlier answer ${id} ${HOSTILE.anchor}` },
          { role: "user", content: `second turn ${id} ${HOSTILE.link}` },
        ],
        expected_safe_behavior: `EXPECTED ${id}: refuse ${HOSTILE.img}`,
        attack_notes: `NOTES ${id}: role play`,
      })),
    );
    const results = join(dir, "results");
    const run = await runCli([
      "run",
      "--dataset",
      dataset,
      "--models",
      "target-model",
      "--judge-model",
      "judge",
      "--base-url",
      mock.url,
      "--group-by",
      "label",
      "--no-preflight",
      "--output-dir",
      results,
      "--run-id",
      "tr",
      "--concurrency",
      "1",
    ]);
    expect(run.code, run.stderr).toBe(0);
    viewer = await startViewer({ root: results, port: 0 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
    await mock?.close();
  });

  const api = async <T>(path: string): Promise<T> => (await fetch(new URL(path, viewer.url))).json() as Promise<T>;
  const indexOf = async (id: string) => (await api<{ rows: Array<{ index: number; test_id: string }> }>(`/api/runs/tr/items?limit=500`)).rows.find((row) => row.test_id === id)!.index;

  it("shows the system prompt, every turn and the response, then each judge call exactly as the judge server received it", async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(`${viewer.url}#/run/tr/item/${await indexOf(REPAIRED)}`);
    await ready(page);
    await page.waitForSelector(".item-detail");
    // The target's call: what the target server was sent, message by message, then its answer.
    const targetRequest = replies.find((entry) => !isJudgeRequest(entry.request) && entry.request.text.includes(`second turn ${REPAIRED}`))!;
    const sent = (targetRequest.request.body.messages as Array<{ role: string; content: string }>).map((message) => message.content);
    expect(sent[0]).toBe(`SYSTEM for ${REPAIRED} ${HOSTILE.svg}`);
    const plan = page.locator(".plan-calls .call");
    expect(await plan.count()).toBe(1);
    expect(await textsOf(page, ".plan-calls .call .message pre")).toEqual(sent);
    expect(await textsOf(page, ".plan-calls .call .message .text-label")).toEqual(["sent: system", "sent: user", "sent: assistant", "sent: user"]);
    expect(await plan.locator(".answer pre").textContent()).toBe(targetRequest.reply);
    // The judge's calls: the repair too, each with the messages the judge server got, and its raw answer.
    const judged = replies.filter((entry) => isJudgeRequest(entry.request) && judgedId(entry.request) === REPAIRED);
    expect(judged).toHaveLength(2);
    const judgeCalls = page.locator('.scorer-calls[data-scorer="verdict"] .call');
    expect(await judgeCalls.count()).toBe(2);
    for (const [position, entry] of judged.entries()) {
      const call = judgeCalls.nth(position);
      const received = (entry.request.body.messages as Array<{ role: string; content: string }>).map((message) => message.content);
      expect(await call.locator(".message pre").evaluateAll((elements) => elements.map((element) => element.textContent))).toEqual(received);
      expect(await call.locator(".answer pre").textContent()).toBe(entry.reply);
      expect(await call.locator(".call-head").textContent()).toBe(`${position + 2} · judge · judge`);
    }
    // The judge's prompt holds the candidate's response and the item's notes, as text.
    expect(judged[0]!.request.text).toContain(targetRequest.reply);
    const parsed = await page.locator('.scorer-calls[data-scorer="verdict"] .parsed-score pre').textContent();
    expect(parsed).toContain("attack success rate: 0\n");
    expect(parsed).toContain("safety score: 0.950");
    // The item's expected behaviour, attack notes and tags.
    const notes = await page.locator("table.item-notes").textContent();
    expect(notes).toContain(`EXPECTED ${REPAIRED}: refuse ${HOSTILE.img}`);
    expect(notes).toContain(`NOTES ${REPAIRED}: role play`);
    expect(notes).toContain("tag label");
    expect(notes).toContain("safe");
    // Hostile text stayed text: nothing ran, nothing loaded beyond the app.
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors).toEqual([]);
    expect(seen.requests.every((url) => url.startsWith(viewer.url))).toBe(true);
    await page.close();
  });

  it("steps with j/k and the arrow keys through the filtered, sorted table it was opened from", async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    const filter = "category=beta&sort=test_id&order=desc";
    const order = (await api<{ rows: Array<{ test_id: string }> }>(`/api/runs/tr/items?${filter}`)).rows.map((row) => row.test_id);
    expect(order).toEqual(["t6", "t4", "t2"]);
    await page.goto(`${viewer.url}#/run/tr/items?${filter}`);
    await ready(page);
    await page.locator("tr.item-row").first().click();
    const at = async () => {
      await page.waitForSelector("body[data-ready=true]", { state: "attached" });
      await page.waitForSelector(".item-detail");
      return { id: ((await page.locator(".item-detail h2").textContent()) ?? "").replace("Item ", ""), position: await page.locator("#item-position").textContent() };
    };
    const press = async (key: string) => {
      const before = page.url();
      await page.keyboard.press(key);
      await page.waitForFunction((url) => location.href !== url, before);
      return at();
    };
    expect(await at()).toEqual({ id: "t6", position: "1 of 3 in the filtered table" });
    expect(page.url()).toContain(filter);
    expect(await press("j")).toEqual({ id: "t4", position: "2 of 3 in the filtered table" });
    expect(await press("ArrowRight")).toEqual({ id: "t2", position: "3 of 3 in the filtered table" });
    // At the end, next does nothing.
    expect(await page.locator('[data-step="next"]').evaluate((element) => element.tagName)).toBe("BUTTON");
    const last = page.url();
    await page.keyboard.press("j");
    await page.waitForTimeout(300);
    expect(page.url()).toBe(last);
    expect((await at()).id).toBe("t2");
    expect(await press("k")).toEqual({ id: "t4", position: "2 of 3 in the filtered table" });
    expect(await press("ArrowLeft")).toEqual({ id: "t6", position: "1 of 3 in the filtered table" });
    // The buttons go the same way, and "back" returns to the same filtered table.
    await page.locator('[data-step="next"]').click();
    expect((await at()).id).toBe("t4");
    await page.getByText("back to the table").click();
    await page.waitForSelector("tr.item-row");
    expect(await textsOf(page, "tr.item-row td:nth-child(7)")).toEqual(order);
    expect(seen.errors).toEqual([]);
    await page.close();
  });
});
