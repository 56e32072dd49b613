import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/run-folder.js";

// test/fixtures/run-0.1: a run folder written by alignbench 0.1 (row format 1, summary 1, manifest 1).
// Resuming it is tested in plans-and-roles.test.ts; here it is read by report, compare and the viewer.
let dir: string;
let viewer: Viewer;
beforeAll(async () => {
  dir = tempDir();
  cpSync(new URL("../fixtures/run-0.1/results/run-0.1", import.meta.url), join(dir, "results", "run-0.1"), { recursive: true });
  cpSync(new URL("../fixtures/run-0.1/results/run-0.1", import.meta.url), join(dir, "results", "run-0.1-copy"), { recursive: true });
  viewer = await startViewer({ root: join(dir, "results"), port: 0 });
});
afterAll(async () => viewer?.close());

describe("a run folder the viewer cannot read", () => {
  it("answers with the reason (a newer format), not a bare server error", async () => {
    const folder = join(dir, "results", "from-the-future");
    cpSync(join(dir, "results", "run-0.1"), folder, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
    writeFileSync(join(folder, "manifest.json"), JSON.stringify({ ...manifest, schema_version: 99 }));
    const response = await fetch(new URL("/api/runs/from-the-future/report", viewer.url));
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: string }).error).toMatch(/written by a newer alignbench/);
  });
});

describe("a run folder written by 0.1", () => {
  it("reports: HTML and paper tables with the verdict judge's attack success", async () => {
    const html = await runCli(["report", join(dir, "results", "run-0.1"), "--output", join(dir, "report.html")]);
    expect(html.code).toBe(0);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("attack success");
    const markdown = await runCli(["report", join(dir, "results", "run-0.1"), "--format", "md"]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toMatch(/attack success/i);
    expect(markdown.stdout).toContain("target-a");
  });

  it("compares with another run, item by item", async () => {
    const result = await runCli(["compare", join(dir, "results", "run-0.1"), join(dir, "results", "run-0.1-copy"), "--json"]);
    expect(result.code).toBe(0);
    const comparison = JSON.parse(result.stdout);
    expect(JSON.stringify(comparison)).toContain("attack_success");
    expect(JSON.stringify(comparison)).toMatch(/"matched":\s*16|"n":\s*16|16/);
  });

  it("views: the run list, its dashboard and its items", async () => {
    const runs = (await (await fetch(new URL("/api/runs", viewer.url))).json()) as Array<{ run_id: string; status?: string }>;
    expect(runs.map((run) => run.run_id).sort()).toEqual(["run-0.1", "run-0.1-copy"]);
    const listing = (await (await fetch(new URL("/api/runs/run-0.1", viewer.url))).json()) as { state: string };
    expect(listing.state).toBe("finished");
    const dashboard = await fetch(new URL("/api/runs/run-0.1/report", viewer.url));
    expect(dashboard.status).toBe(200);
    expect(JSON.stringify(await dashboard.json())).toContain("attack success");
    const items = (await (await fetch(new URL("/api/runs/run-0.1/items", viewer.url))).json()) as { total: number };
    expect(items.total).toBe(16);
  });
});
