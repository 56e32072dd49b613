import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runStandin } from "../helpers/drift-standin.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// The drift section's findings per checkpoint (FL histogram, largest-KL tokens in context, flipped probes),
// in the HTML report and on the viewer's run page, from a drift run of the stand-ins (test/helpers/
// drift-standin-cli.mjs): checkpoint K's in-domain texts all have FL K/10, its out-of-domain ones K/5, each
// text's one top-KL position has KL = FL + 0.01 and the whole text as its token; the first K probes lose their
// alignment and a probe starting with "gain" gains it. One in-domain text and one probe are hostile markup.

const HOSTILE_TOKEN = "<img src=x onerror=alert(1)>";
const HOSTILE_PROBE = "gain <script>alert(2)</script> trust";
const CHECKPOINTS = ["mock-ckpt-1", "mock-ckpt-2"];

describe.skipIf(!CHROMIUM)("drift findings in a real browser", () => {
  let mock: MockLlm;
  let browser: BrowserContext;
  let viewer: Viewer;
  let dir: string;
  beforeAll(async () => {
    mock = await startMockLlm(() => ({ reply: "An answer." }));
    browser = await launchBrowser();
    dir = tempDir();
    writeJsonl(
      join(dir, "in.jsonl"),
      [HOSTILE_TOKEN, "plain one", "plain two", "plain three"].map((text, i) => ({ id: `i${i}`, text })),
    );
    writeJsonl(
      join(dir, "ood.jsonl"),
      ["far one", "far two", "far three", "far four"].map((text, i) => ({ id: `o${i}`, text })),
    );
    writeJsonl(join(dir, "probes.jsonl"), [...[0, 1, 2, 3].map((i) => ({ id: `p${i}`, prompt: `Probe ${i}?`, expect: "refuse" })), { id: "g", prompt: HOSTILE_PROBE, expect: "comply" }]);
    const inputs = ["--in-domain", join(dir, "in.jsonl"), "--ood", join(dir, "ood.jsonl"), "--probes", join(dir, "probes.jsonl")];
    const common = ["--output-dir", dir];
    const ran = await runStandin(["drift", "--base", "mock-base", "--finetuned", CHECKPOINTS.join(","), ...inputs, "--base-url", mock.url, "--run-id", "findings", "--no-progress", ...common]);
    expect(ran.code, ran.stderr).toBe(0);
    const made = await runStandin(["report", "findings", ...common]);
    expect(made.code, made.stderr).toBe(0);
    viewer = await startViewer({ root: dir, port: 0 });
  }, 120_000);
  afterAll(async () => {
    await viewer?.close();
    await browser?.close();
    await mock?.close();
  });

  const cells = (page: Page, selector: string) => page.locator(selector).evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)));

  async function expectFindings(page: Page): Promise<void> {
    const blocks = page.locator("#drift .drift-checkpoint");
    expect(await blocks.evaluateAll((divs) => divs.map((div) => div.getAttribute("data-model")))).toEqual(CHECKPOINTS);
    // Bins shared by both checkpoints: the largest FL is 0.2, so 20 bins of 0.01 nats; the 4 in-domain texts
    // of checkpoint 1 (FL 0.1) are in bin 10 (0.10–0.11), those of checkpoint 2 (FL 0.2) in the last one.
    for (const [index, bin] of [
      [0, 10],
      [1, 19],
    ] as const) {
      const figure = blocks.nth(index).locator("figure.chart");
      const series = JSON.parse((await figure.getAttribute("data-counts"))!) as Array<{ name: string; counts: number[] }>;
      const expected = new Array<number>(20).fill(0);
      expected[bin] = 4;
      expect(series).toEqual([{ name: CHECKPOINTS[index], counts: expected }]);
      expect(await figure.locator("svg").count()).toBe(1);
    }
    await expect.poll(() => blocks.first().locator("svg text", { hasText: "0.10–0.11" }).count()).toBe(1);
    // Top KL of checkpoint 1: the out-of-domain texts (0.2 + 0.01) before the in-domain ones (0.1 + 0.01), by id.
    const top = await cells(page, '#drift .drift-checkpoint[data-model="mock-ckpt-1"] table.drift-top-kl tbody tr');
    expect(top.map((row) => [row[0], row[1], row[3]])).toEqual([
      ["0.210", "far one", "ood/o0"],
      ["0.210", "far two", "ood/o1"],
      ["0.210", "far three", "ood/o2"],
      ["0.210", "far four", "ood/o3"],
      ["0.110", HOSTILE_TOKEN, "in_domain/i0"],
      ["0.110", "plain one", "in_domain/i1"],
      ["0.110", "plain two", "in_domain/i2"],
      ["0.110", "plain three", "in_domain/i3"],
    ]);
    expect(top[4]![2]).toBe("before in_domain/i0");
    // Flipped probes of checkpoint 2: p0 and p1 lost, g gained; the hostile prompt shown as text.
    expect(await cells(page, '#drift .drift-checkpoint[data-model="mock-ckpt-2"] table.drift-flips tbody tr')).toEqual([
      ["lost", "probes/p0", "Probe 0?", "aligned", "not aligned"],
      ["lost", "probes/p1", "Probe 1?", "aligned", "not aligned"],
      ["gained", "probes/g", HOSTILE_PROBE, "not aligned", "aligned"],
    ]);
    expect(await page.locator('#drift .drift-checkpoint[data-model="mock-ckpt-1"] table.drift-flips tbody tr').count()).toBe(2);
    expect(await page.evaluate(() => ({ images: document.images.length, scripts: document.querySelectorAll("#drift script").length }))).toEqual({ images: 0, scripts: 0 });
  }

  it("shows the FL histogram, the largest-KL tokens in context and the flipped probes in the report", async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(pathToFileURL(join(dir, "findings", "report.html")).href);
    await ready(page);
    await expectFindings(page);
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("shows the same on the viewer's run page", async () => {
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(`${viewer.url}#/run/findings`);
    await page.waitForSelector("#drift .drift-checkpoint", { state: "attached" });
    await ready(page);
    await expectFindings(page);
    expect(seen.dialogs).toEqual([]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 60_000);
});
