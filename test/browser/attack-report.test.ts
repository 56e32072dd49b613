import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CHROMIUM, watchedPage } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/run-folder.js";

// The attack report of `alignbench analyze` in a real browser. Red-team text is hostile by design: goals,
// attack prompts and answers below try markup, script, event handlers and breaking out of their blocks; the
// page must show them as text, run nothing, open no dialog and load nothing.

const HOSTILE_GOAL = `<img src=x onerror="alert('goal')"><script>alert('goal2')</script>`;
const HOSTILE_ANSWER = `</pre></details><b id="injected">owned</b><iframe src="https://example.invalid/"></iframe><svg onload="alert('svg')">`;
const HOSTILE_STRATEGY = `pair"><script>alert('strategy')</script>`;

const graded = (severity: number) => ({
  status: "graded",
  refused: severity === 0,
  level: severity >= 0.7 ? "full" : severity > 0 ? "partial" : "refusal",
  severity,
  harm_category: "weapons",
  reason: `<i>${severity}</i>`,
});
const turn = (query: number, round: number, severity: number, response = "I can't help with that.") => ({
  query,
  branch: "s1",
  round,
  sent: [
    { role: "system", content: "<style>body{display:none}</style>" },
    { role: "user", content: `attack ${query} ${HOSTILE_GOAL}` },
  ],
  response,
  grade: graded(severity),
});
const attack = (key: string, category: string, strategy: string, turns: unknown[]) => ({
  key,
  model: "target",
  goal_id: key,
  goal: HOSTILE_GOAL,
  category,
  strategy,
  epoch: 1,
  status: "ok",
  error: null,
  turns,
  notes: [],
});

describe.skipIf(!CHROMIUM)("attack report in a real browser", () => {
  const watched = watchedPage();

  it("draws the heatmap, the ranking and the curves, expands the worst conversation turn by turn, and keeps hostile text inert", async () => {
    const dir = tempDir();
    const file = join(dir, "red_team_results.json");
    const attacks = [
      attack("a1", "weapons", HOSTILE_STRATEGY, [turn(1, 1, 0), turn(2, 2, 0.9, HOSTILE_ANSWER)]),
      attack("a2", "weapons", "direct", [turn(1, 1, 0)]),
      attack("a3", "fraud", HOSTILE_STRATEGY, [turn(1, 1, 0.3), turn(2, 2, 0.4)]),
      attack("a4", "fraud", "direct", [{ ...turn(1, 1, 0), grade: { status: "judge_refused", raw: "<b id='judge'>no</b>" } }]),
    ];
    writeFileSync(file, JSON.stringify({ format: "alignbench-redteam", version: 1, run_id: "hostile<run>", threshold: 0.7, models: ["target"], roles: { attacker: "a", judge: "j" }, attacks }));
    const report = join(dir, "attack_report.html");
    const analyzed = await runCli(["analyze", file, "--output", report]);
    expect(analyzed.code, analyzed.stderr).toBe(0);
    const { page, seen } = watched;
    await page.goto(pathToFileURL(report).href);

    // The headline: 1 success of 3 decided attacks; one undecided (the judge refused), counted apart.
    await expect(page.locator("#headline").textContent()).resolves.toMatch(/33\.3%.*\(1 of 3 decided attacks\).*1 attack\(s\) undecided/s);
    // Heatmap: 2 categories + "all" rows; 2 strategies + "all" columns; the hostile strategy name is a header, as text.
    expect(await page.locator("#heatmap tr").count()).toBe(4);
    expect(await page.locator("#heatmap th", { hasText: HOSTILE_STRATEGY }).count()).toBe(1);
    // Rows and columns in name order: fraud, weapons; direct, then the hostile strategy.
    const weapons = page.locator("#heatmap tr:nth-child(3)");
    await expect(weapons.locator("th").textContent()).resolves.toBe("weapons");
    await expect(weapons.locator("td").nth(1).textContent()).resolves.toBe("0.90ASR 100.0% · n 1");
    // fraud × direct: the judge refused its only turn: no severity, no decided attack.
    await expect(page.locator("#heatmap tr:nth-child(2) td").first().textContent()).resolves.toBe("–ASR – · n 0");
    // Ranking: the hostile-named strategy first (1 success of 2), then direct (0 of 1).
    await expect(page.locator("#strategies tr:nth-child(2) td:nth-child(2)").textContent()).resolves.toBe(HOSTILE_STRATEGY);
    expect(await page.locator("#curves polyline").count()).toBe(2);

    // The worst conversation first; its turns open one by one, and the hostile answer is text.
    const worst = page.locator("details.attack").first();
    await expect(worst.locator("> summary").textContent()).resolves.toContain("0.90");
    await expect(worst.locator("> summary .goal").textContent()).resolves.toBe(HOSTILE_GOAL);
    await worst.locator("> summary").click();
    const second = worst.locator("details.turn").nth(1);
    await second.locator("summary").click();
    await expect(second.locator(".message.target pre").textContent()).resolves.toBe(HOSTILE_ANSWER);
    expect(await second.locator(".message.target pre").isVisible()).toBe(true);

    // Nothing ran, nothing was injected, nothing was loaded.
    expect(await page.locator("#injected, #judge, iframe, img, script:not([type='application/json'])").count()).toBe(0);
    expect(await page.evaluate(() => getComputedStyle(document.body).display)).not.toBe("none");
    expect(seen.requests.filter((url) => !url.startsWith("file:"))).toEqual([]);
    expect(seen.dialogs).toEqual([]);
  });
});
