import { createHash } from "node:crypto";
import type { ReportData } from "./report-data.js";
import { reportAssets } from "./web-assets.js";

/** Text for HTML text and attribute contexts. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * JSON safe inside a <script type="application/json"> element: no "<" (so no "</script>" or "<!--") and no
 * line separators, whatever the models wrote.
 */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * One self-contained HTML file: styles, script and data inline, no network. Its Content-Security-Policy
 * allows only the report's own script (by hash) and nothing from anywhere: even text that slipped into the
 * page as markup could not run or load anything.
 */
export function renderHtmlReport(data: ReportData): string {
  const { script, styles } = reportAssets();
  if (/<\/script/i.test(script)) throw new Error("the report bundle contains </script and cannot be inlined");
  const scriptHash = createHash("sha256").update(script).digest("base64");
  const title = data.runs.map((run) => run.manifest.run_id).join(" vs ");
  const policy = `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src data:; font-src data:`;
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${policy}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>alignbench report — ${escapeHtml(title)}</title>`,
    `<style>${styles.replace(/<\/style/gi, "<\\/style")}</style>`,
    "</head>",
    "<body>",
    '<div id="app"></div>',
    `<script type="application/json" id="report-data">${inlineJson(data)}</script>`,
    `<script>${script}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
