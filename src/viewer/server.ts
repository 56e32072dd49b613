import { UserError } from "../errors.js";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { folderFiles } from "../results/run-folder.js";
import { runFolderLink } from "../results/run-links.js";
import { existsSync, readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { buildReportData, type ReportData } from "../reports/report-data.js";
import { runLens } from "../reports/run-lens.js";
import { readManifest } from "../results/manifest.js";
import { WEB_ROOT } from "../reports/web-assets.js";
import { ItemIndex, type ItemQuery } from "./item-index.js";
import { dashboardFromIndex } from "./dashboard.js";
import { exportLines } from "./item-export.js";
import { gridPage } from "./grid.js";
import { facetFiltersOf } from "./item-filters.js";
import { describeRun, isRunId, listRuns } from "./run-index.js";

export interface ViewerOptions {
  /** The results folder whose run folders are shown. */
  root: string;
  host?: string;
  port?: number;
  /** Required on every request when set (always set for a non-loopback host). */
  token?: string;
}

export interface Viewer {
  url: string;
  token: string | undefined;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A read-only web app over a results folder: GET and HEAD only, files only from the built front end. */
export function viewerApp(options: ViewerOptions & { acceptsHost: (host: string) => boolean }): Hono {
  const root = resolve(options.root);
  const assets = resolve(WEB_ROOT, "viewer");
  const indexes = new Map<string, Promise<ItemIndex>>();
  const reports = new Map<string, { stamp: string; data: Promise<ReportData> }>();
  // Finished runs' dashboards, kept as long as their item index (which reloads when results.parquet changes).
  const dashboards = new WeakMap<ItemIndex, ReportData>();
  const app = new Hono();
  // A run folder the viewer cannot read (damaged, or written by a newer alignbench) is the user's to fix:
  // its message, not a bare 500.
  app.onError((error, c) => (error instanceof UserError ? c.json({ error: error.message }, 422) : c.json({ error: "internal error" }, 500)));

  app.use("*", async (c, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return c.json({ error: "the viewer is read-only" }, 405);
    // DNS rebinding: a page elsewhere must not reach the viewer through a name that resolves to 127.0.0.1.
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (!options.acceptsHost(host)) return c.json({ error: `host "${host}" is not served` }, 403);
    if (options.token) {
      const given = c.req.query("token") ?? c.req.header("authorization")?.replace(/^Bearer /, "") ?? cookie(c, "alignbench_token");
      if (!given || !sameSecret(given, options.token)) return c.json({ error: "a token is required: open the URL printed by alignbench view" }, 401);
      c.header("set-cookie", `alignbench_token=${options.token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    await next();
  });

  const runFolder = (c: Context): string | undefined => {
    const runId = c.req.param("run") ?? "";
    if (!isRunId(runId)) return undefined;
    const folder = join(root, runId);
    // A run folder that is or holds a symbolic link is not served: the link is never read (run-links.ts).
    return existsSync(folderFiles(folder).manifest) && runFolderLink(folder) === undefined ? folder : undefined;
  };

  const itemIndex = async (folder: string): Promise<ItemIndex | undefined> => {
    const file = folderFiles(folder).parquet;
    if (!existsSync(file)) return undefined;
    const cached = indexes.get(file);
    if (cached && !(await cached).isStale()) return cached;
    const manifest = await readManifest(folderFiles(folder).manifest);
    if (!manifest) return undefined;
    const loading = ItemIndex.load(file, runLens(manifest));
    indexes.set(file, loading);
    loading.catch(() => indexes.delete(file));
    return loading;
  };

  // A run's dashboard is rebuilt only when partials.jsonl changed since the last build.
  const report = (folders: string[]): Promise<ReportData> => {
    const stamp = folders
      .map((folder) => {
        const info = statSync(folderFiles(folder).partials, { throwIfNoEntry: false });
        return `${info?.size ?? 0}:${info?.mtimeMs ?? 0}`;
      })
      .join("|");
    const id = folders.join("|");
    const cached = reports.get(id);
    if (cached?.stamp === stamp) return cached.data;
    const data = buildReportData(folders, { maxItems: 0, worst: 25 });
    reports.set(id, { stamp, data });
    data.catch(() => reports.delete(id));
    return data;
  };

  app.get("/api/runs", async (c) => c.json(await listRuns(root)));
  app.get("/api/runs/:run", async (c) => {
    const listing = await describeRun(root, c.req.param("run"));
    return listing ? c.json(listing) : c.json({ error: "no such run" }, 404);
  });
  app.get("/api/runs/:run/report", async (c) => {
    const folder = runFolder(c);
    if (!folder) return c.json({ error: "no such run" }, 404);
    // A finished run's dashboard comes from summary.json and the item index; a live one from its partials.
    const manifest = await readManifest(folderFiles(folder).manifest);
    const index = manifest ? await itemIndex(folder) : undefined;
    let fast = index ? dashboards.get(index) : undefined;
    if (!fast && manifest && index) {
      fast = await dashboardFromIndex(folder, manifest, index);
      if (fast) dashboards.set(index, fast);
    }
    return c.json(fast ?? (await report([folder])));
  });
  app.get("/api/runs/:run/items", async (c) => {
    const folder = runFolder(c);
    if (!folder) return c.json({ error: "no such run" }, 404);
    const index = await itemIndex(folder);
    if (!index) return c.json({ error: "results.parquet is written when the run ends; its progress is shown meanwhile" }, 409);
    const result = await index.query(parseQuery(c));
    // What the table's columns and outcome filter mean: the scorers' declarations and the primary metric.
    return c.json({ ...result, facets: index.facets, filters: await index.filterFacets(), size: index.size, scorers: index.lens.scorers, primary: index.lens.primary ?? null });
  });
  app.get("/api/runs/:run/grid", async (c) => {
    const folder = runFolder(c);
    if (!folder) return c.json({ error: "no such run" }, 404);
    const index = await itemIndex(folder);
    if (!index) return c.json({ error: "results.parquet is written when the run ends; its progress is shown meanwhile" }, 409);
    const page = await gridPage(index, parseQuery(c));
    return c.json({ ...page, facets: index.facets, filters: await index.filterFacets(), scorers: index.lens.scorers, primary: index.lens.primary ?? null });
  });
  // The item table's rows as a file: the same filters and order (parseQuery), every matching row, streamed.
  app.get("/api/runs/:run/export/:format", async (c) => {
    const format = c.req.param("format");
    if (format !== "csv" && format !== "jsonl") return c.json({ error: "export as csv or jsonl" }, 404);
    const folder = runFolder(c);
    if (!folder) return c.json({ error: "no such run" }, 404);
    const index = await itemIndex(folder);
    if (!index) return c.json({ error: "results.parquet is written when the run ends" }, 409);
    const lines = exportLines(format, index.allMatching(parseQuery(c)), index.lens.scorers);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      cancel: () => void lines.return(undefined),
    });
    const runId = c.req.param("run") ?? "run";
    return c.body(body, 200, {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="${runId}-items.${format}"`,
      "cache-control": "no-store",
    });
  });
  // The item before and after one in the item table's filters and order (the same query parameters).
  app.get("/api/runs/:run/items/:index/neighbours", async (c) => {
    const folder = runFolder(c);
    const index = folder ? await itemIndex(folder) : undefined;
    const row = Number(c.req.param("index"));
    if (!index || !Number.isInteger(row) || row < 0 || row >= index.size) return c.json({ error: "no such item" }, 404);
    return c.json(await index.neighbours(row, parseQuery(c)));
  });
  app.get("/api/runs/:run/items/:index", async (c) => {
    const folder = runFolder(c);
    const index = folder ? await itemIndex(folder) : undefined;
    const row = await index?.row(Number(c.req.param("index")));
    return row ? c.json(row) : c.json({ error: "no such item" }, 404);
  });
  app.get("/api/compare", async (c) => {
    const a = c.req.query("a") ?? "";
    const b = c.req.query("b") ?? "";
    const served = (id: string) => isRunId(id) && existsSync(folderFiles(join(root, id)).manifest) && runFolderLink(join(root, id)) === undefined;
    if (![a, b].every(served)) return c.json({ error: "no such run" }, 404);
    return c.json(await report([join(root, a), join(root, b)]));
  });
  app.get("/api/*", (c) => c.json({ error: "not found" }, 404));

  // The front end: files under dist/web/viewer only (the app routes by the URL's hash, so no other path exists).
  app.get("*", (c) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      return c.json({ error: "bad path" }, 400);
    }
    if (path.includes("\0") || path.split("/").includes("..")) return c.json({ error: "bad path" }, 400);
    const file = resolve(assets, "." + (path === "/" ? "/index.html" : path));
    if (!file.startsWith(assets + sep)) return c.json({ error: "bad path" }, 400);
    if (!existsSync(file) || !statSync(file).isFile()) return c.json({ error: "not found" }, 404);
    return c.body(readFileSync(file), 200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
  });
  return app;
}

function parseQuery(c: Context): ItemQuery {
  const q = (name: string) => {
    const value = c.req.query(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const query: ItemQuery = facetFiltersOf(new URL(c.req.url).searchParams);
  const text = (name: "model" | "persona" | "category" | "text") => {
    const value = q(name);
    if (value !== undefined) query[name] = value;
  };
  text("model");
  text("persona");
  text("category");
  text("text");
  const status = q("status");
  if (status === "ok" || status === "error") query.status = status;
  const outcome = q("outcome");
  if (outcome === "bad" || outcome === "good" || outcome === "neutral" || outcome === "none") query.outcome = outcome;
  const number = (name: string) => {
    const value = Number(q(name));
    return q(name) !== undefined && Number.isFinite(value) ? value : undefined;
  };
  const min = number("smin");
  const max = number("smax");
  if (min !== undefined) query.severityMin = min;
  if (max !== undefined) query.severityMax = max;
  const sort = q("sort");
  if (sort === "severity" || sort === "key" || sort === "model" || sort === "persona" || sort === "category" || sort === "test_id") query.sort = sort;
  if (q("order") === "desc") query.order = "desc";
  query.offset = Math.max(0, Math.floor(number("offset") ?? 0));
  query.limit = Math.max(1, Math.min(500, Math.floor(number("limit") ?? 50)));
  return query;
}

function cookie(c: Context, name: string): string | undefined {
  const header = c.req.header("cookie") ?? "";
  for (const part of header.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Serves the viewer. Loopback by default; another interface only when asked, and then every request must
 * carry the token (printed with the URL).
 */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? (isLoopback(host) ? undefined : randomBytes(18).toString("base64url"));
  // The Host header a request may carry, known once the port is: loopback names, or with a token any name
  // when listening on every interface (the machine's other names reach it, and the token guards it).
  let acceptsHost: (value: string) => boolean = () => false;
  const app = viewerApp({ ...options, ...(token ? { token } : {}), acceptsHost: (value) => acceptsHost(value) });
  const server: ServerType = await new Promise((resolveServer, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8777 }, () => resolveServer(started));
    started.on("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const anyInterface = host === "0.0.0.0" || host === "::";
  const allowed = new Set(["127.0.0.1", "localhost", "[::1]", host.includes(":") ? `[${host}]` : host].map((name) => `${name}:${port}`.toLowerCase()));
  acceptsHost = anyInterface ? () => true : (value) => allowed.has(value);
  const shown = isLoopback(host) || anyInterface ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shown}:${port}/${token ? `?token=${token}` : ""}`;
  return {
    url,
    token,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
