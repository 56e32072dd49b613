import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// A results folder holding run folders whose links point outside it, at a run whose responses, manifest
// and files carry a secret. The viewer must not serve them and `report` must refuse them.
const SECRET = "SECRET-7f3a";

let mock: MockLlm;
let dir: string;
let root: string;
let outside: string;
let viewer: Viewer;

/** A copy of the ordinary run under `name`, with `file` replaced by a link to the outside run's. */
function linkedCopy(name: string, file: string, target = join(outside, file)): string {
  const folder = join(root, name);
  cpSync(join(root, "plain"), folder, { recursive: true });
  rmSync(join(folder, file), { force: true });
  symlinkSync(target, join(folder, file));
  return folder;
}

const CASES: Array<[string, () => string]> = [
  [
    "a run folder that is a link",
    () => {
      symlinkSync(outside, join(root, "linked-folder"));
      return join(root, "linked-folder");
    },
  ],
  ["a linked manifest.json", () => join(linkedCopy("linked-manifest", "manifest.json"), "manifest.json")],
  ["a linked results.parquet", () => join(linkedCopy("linked-parquet", "results.parquet"), "results.parquet")],
  ["a linked partials.jsonl", () => join(linkedCopy("linked-partials", "partials.jsonl"), "partials.jsonl")],
  ["a linked summary.json", () => join(linkedCopy("linked-summary", "summary.json"), "summary.json")],
  ["a linked state.sqlite", () => join(linkedCopy("linked-state", "state.sqlite"), "state.sqlite")],
  ["a report.html linked to a file elsewhere", () => join(linkedCopy("linked-report", "report.html", join(dir, "secret.txt")), "report.html")],
];
const links = new Map<string, string>();

beforeAll(async () => {
  mock = await startMockLlm((request) => ({ reply: request.text.includes("secret") ? `the ${SECRET} answer` : "an ordinary answer" }));
  dir = tempDir();
  root = join(dir, "results");
  mkdirSync(root);
  writeFileSync(join(dir, "secret.txt"), `${SECRET} private key\n`);
  for (const [name, prompt, outputDir] of [
    ["plain", "hello", root],
    ["outside", "tell me the secret", dir],
  ] as const) {
    const dataset = join(dir, `${name}.jsonl`);
    writeJsonl(dataset, [{ id: `${name}-1`, category: `${name}-category`, prompt }]);
    const result = await runCli(["run", "--dataset", dataset, "--models", "m", "--base-url", mock.url, "--output-dir", outputDir, "--run-id", name, "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
  }
  outside = join(dir, "outside");
  // The outside run's manifest names its secret too, so a manifest read through a link would show it.
  const manifest = JSON.parse(readFileSync(join(outside, "manifest.json"), "utf8")) as { run_id: string };
  writeFileSync(join(outside, "manifest.json"), JSON.stringify({ ...manifest, run_id: SECRET }));
  for (const [name, make] of CASES) links.set(name, make());
  viewer = await startViewer({ root, port: 0 });
}, 60_000);
afterAll(async () => {
  await viewer?.close();
  await mock.close();
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(path, viewer.url));
  return { status: response.status, body: await response.text() };
}

describe("the viewer and report never follow symbolic links in a results folder", () => {
  it("serves the ordinary run (the check below would pass vacuously otherwise)", async () => {
    const runs = JSON.parse((await get("/api/runs")).body) as Array<{ run_id: string }>;
    expect(runs.map((run) => run.run_id)).toContain("plain");
    expect((await get("/api/runs/plain/report")).status).toBe(200);
    const items = await get("/api/runs/plain/items");
    expect(items.status).toBe(200);
    expect(items.body).toContain("an ordinary answer");
  });

  it("lists no run holding a link, and nothing from their targets", async () => {
    const listing = await get("/api/runs");
    expect(listing.status).toBe(200);
    expect(listing.body).not.toContain(SECRET);
    const ids = (JSON.parse(listing.body) as Array<{ run_id: string }>).map((run) => run.run_id);
    expect(ids).toEqual(["plain"]);
  });

  for (const [name] of CASES) {
    it(`${name}: the viewer answers 404 and report refuses with exit 2, naming the link`, async () => {
      const link = links.get(name)!;
      const runId = link.slice(root.length + 1).split("/")[0]!;
      for (const path of [`/api/runs/${runId}`, `/api/runs/${runId}/report`, `/api/runs/${runId}/items`, `/api/runs/${runId}/items/0`, `/api/compare?a=plain&b=${runId}`]) {
        const answer = await get(path);
        expect(answer.status, path).toBe(404);
        expect(answer.body, path).not.toContain(SECRET);
      }
      const report = await runCli(["report", runId, "--output-dir", root]);
      expect(report.code, report.stderr).toBe(2);
      expect(report.stderr).toContain(`${link} is a symbolic link`);
      expect(report.stdout + report.stderr).not.toContain(SECRET);
      expect(readFileSync(join(dir, "secret.txt"), "utf8")).toBe(`${SECRET} private key\n`);
    });
  }

  it("report --output onto a symbolic link is refused and the file it points to is unchanged", async () => {
    const target = join(dir, "precious.html");
    writeFileSync(target, "precious\n");
    const link = join(dir, "out.html");
    symlinkSync(target, link);
    const html = await runCli(["report", "plain", "--output-dir", root, "--output", link]);
    expect(html.code, html.stderr).toBe(2);
    expect(html.stderr).toContain(`${link} is a symbolic link`);
    const tables = await runCli(["report", "plain", "--output-dir", root, "--format", "md", "--output", link]);
    expect(tables.code).toBe(2);
    expect(readFileSync(target, "utf8")).toBe("precious\n");
    // A plain output path is written as before.
    const plain = await runCli(["report", "plain", "--output-dir", root, "--output", join(dir, "fine.html")]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(readFileSync(join(dir, "fine.html"), "utf8")).toContain("<html");
  });
});
