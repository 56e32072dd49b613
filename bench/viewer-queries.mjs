// Times the viewer's API over a run folder, as the browser would call it. The viewer runs in a process of
// its own (as `alignbench view` does), so its memory is its own, not this script's HTTP client's too.
// Usage: node bench/viewer-queries.mjs RESULTS_DIR RUN_ID
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [root, run] = process.argv.slice(2);
const server = fileURLToPath(new URL("../dist/viewer/server.js", import.meta.url));
const child = spawn(
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `const { startViewer } = await import(${JSON.stringify(server)}); const viewer = await startViewer({ root: process.argv[1], port: 0 }); console.log(viewer.url);`,
    root,
  ],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const base = await new Promise((resolve, reject) => {
  child.stdout.once("data", (data) => resolve(String(data).trim().replace(/\/$/, "")));
  child.once("exit", (code) => reject(new Error(`the viewer exited (${code})`)));
});
/** The viewer process's resident memory now and at its peak, in MB (Linux /proc). */
function viewerMemory() {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: (kb("VmRSS") * 1024) / 1e6, peak: (kb("VmHWM") * 1024) / 1e6 };
}
async function timed(label, path) {
  const start = performance.now();
  const response = await fetch(base + path);
  const body = await response.json();
  const ms = performance.now() - start;
  const detail = body.total !== undefined ? `${body.total} rows match` : response.status;
  console.log(`${label.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  (${detail})`);
  return body;
}
// As a browser does: the page first (this also starts this script's HTTP client), then the API.
{
  const start = performance.now();
  const page = await fetch(`${base}/`);
  await page.text();
  console.log(`${"viewer page (HTML)".padEnd(48)} ${(performance.now() - start).toFixed(0).padStart(6)} ms  (${page.status})`);
}
await timed("first items page (loads the index)", `/api/runs/${run}/items`);
await timed("items page, index loaded", `/api/runs/${run}/items?offset=200000`);
await timed("filter: category + outcome", `/api/runs/${run}/items?category=harmful&attack=0`);
await timed("filter: severity range", `/api/runs/${run}/items?smin=0.5&smax=1`);
await timed("sort: severity, descending", `/api/runs/${run}/items?sort=severity&order=desc`);
await timed("sort: test id", `/api/runs/${run}/items?sort=test_id`);
await timed("text search (first time: scans the file)", `/api/runs/${run}/items?text=variant%20123`);
await timed("text search, same text again", `/api/runs/${run}/items?text=variant%20123&offset=0`);
await timed("text search, another text", `/api/runs/${run}/items?text=variant%20777`);
const page = await timed("filter + sort together", `/api/runs/${run}/items?category=benign&sort=severity&order=desc`);
const grid = async (label, query) => {
  const body = await timed(label, `/api/runs/${run}/grid?${query}`);
  if (body.rows?.length === 0 && body.total > 0) throw new Error(`grid page ${query} is empty`);
};
await grid("grid: first page (builds the grid's layout)", "");
await grid("grid: a page in the middle", "offset=200000");
await grid("grid: filter (category)", "category=harmful");
await grid("grid: scorer value filter", "max:verdict=0");
await grid("grid: text search (already scanned)", "text=variant%20123");
await timed("item detail", `/api/runs/${run}/items/${page.rows[0].index}`);
await timed("dashboard (summary.json + the item index)", `/api/runs/${run}/report`);
await timed("dashboard again (cached)", `/api/runs/${run}/report`);
const memory = viewerMemory();
console.log(`viewer RSS after the queries: ${memory.rss.toFixed(0)} MB (peak ${memory.peak.toFixed(0)} MB; the viewer's own process)`);
child.kill();
