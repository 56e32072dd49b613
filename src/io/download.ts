import { createWriteStream, existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InterruptedError, UserError } from "../errors.js";
import { sha256File } from "./hash-file.js";

/** `hf:owner/repo/path/to/file.gguf` (a model) or `hf:datasets/owner/repo/path` (a dataset), optionally `@revision` at the end. */
export interface HubFile {
  kind: "model" | "dataset";
  owner: string;
  repo: string;
  path: string;
  revision: string;
}

export function parseHubReference(reference: string): HubFile {
  const match = /^hf:(datasets\/)?([^/\s]+)\/([^/\s]+)\/([^@\s]+?)(?:@([^@\s/]+))?$/.exec(reference);
  if (!match) throw new UserError(`"${reference}" is not a hub file: write hf:owner/repo/file.gguf or hf:datasets/owner/repo/file.csv (optionally @revision)`);
  const hub: HubFile = { kind: match[1] ? "dataset" : "model", owner: match[2]!, repo: match[3]!, path: match[4]!, revision: match[5] ?? "main" };
  // The parts become folder names in the caches: "." or ".." (or an empty segment) would lead out of them.
  for (const part of [hub.owner, hub.repo, hub.revision, ...hub.path.split("/")]) {
    if (part === "" || part === "." || part === ".." || part.includes("\\")) throw new UserError(`"${reference}": "${part}" is not a valid owner, repository, revision or path segment of a hub file`);
  }
  return hub;
}

export function defaultModelCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.ALIGNBENCH_MODEL_CACHE || join(cacheRoot(env), "models");
}

export function defaultDatasetCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.ALIGNBENCH_DATASET_CACHE || join(cacheRoot(env), "datasets");
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "alignbench");
}

/**
 * The Hugging Face cache, as huggingface_hub locates it: $HF_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */
export function huggingFaceCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  return join(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface"), "hub");
}

/**
 * A hub file another tool (huggingface-cli, transformers, llama.cpp's -hf) already downloaded into the Hugging
 * Face cache: {cache}/{models|datasets}--{owner}--{repo}/snapshots/{commit}/{path}, where refs/{revision}
 * holds the commit (a 40-hex revision is the commit itself). Snapshot files are usually symlinks into
 * ../../blobs/; one whose blob is gone counts as absent. huggingface_hub writes a snapshot entry only once its
 * download is complete and verified, so the file is used as it is.
 */
export function findInHuggingFaceCache(hub: HubFile, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const folder = join(huggingFaceCache(env), `${hub.kind}s--${hub.owner}--${hub.repo}`);
  let commit = hub.revision;
  if (!/^[0-9a-f]{40}$/.test(commit)) {
    try {
      commit = readFileSync(join(folder, "refs", hub.revision), "utf8").trim();
    } catch {
      return undefined;
    }
    if (!/^[0-9a-f]{40}$/.test(commit)) return undefined;
  }
  const file = join(folder, "snapshots", commit, ...hub.path.split("/"));
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** A dataset given by hub name or URL rather than a local path. */
export function isRemoteReference(reference: string): boolean {
  return reference.startsWith("hf:") || /^https?:\/\//i.test(reference);
}

export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  totalBytes: number | undefined;
  resumedFrom: number;
}

export interface HubDownloadOptions {
  cacheDir?: string;
  /** Hub endpoint; default $HF_ENDPOINT or https://huggingface.co (set it to use a mirror). */
  endpoint?: string;
  token?: string;
  onProgress?: (progress: DownloadProgress) => void;
  /** Stops the download (Ctrl-C): it fails with an InterruptedError and its partial file is kept to resume. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * A hub file in the local cache, downloaded on first use: resumed from a partial download (HTTP Range),
 * verified against the sha256 the hub advertises, and reused afterwards without any network access. A file
 * already in the Hugging Face cache is used where it is, neither downloaded nor copied.
 */
export async function ensureHubFile(reference: string, options: HubDownloadOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const hub = parseHubReference(reference);
  const cacheDir = options.cacheDir ?? (hub.kind === "dataset" ? defaultDatasetCache(env) : defaultModelCache(env));
  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const prefix = hub.kind === "dataset" ? "/datasets" : "";
  const url = `${endpoint}${prefix}/${hub.owner}/${hub.repo}/resolve/${encodeURIComponent(hub.revision)}/${hub.path.split("/").map(encodeURIComponent).join("/")}`;
  const headers: Record<string, string> = {};
  const token = options.token ?? env.HF_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  const hint =
    hub.kind === "dataset"
      ? "Download the file yourself and pass its path with --dataset, or set HF_ENDPOINT to a reachable mirror."
      : "Download the file yourself and pass it as llamacpp:./path/to/file.gguf, or set HF_ENDPOINT to a reachable mirror.";
  const target = hubTarget(hub, cacheDir);
  if (!isCached(target)) {
    const shared = findInHuggingFaceCache(hub, env);
    if (shared) return shared;
  }
  const download: Download = { reference, url, target, headers, hint, source: endpoint, accessHint: "set HF_TOKEN for gated or private files", env };
  download.lookedIn = `${dirname(target)} or the Hugging Face cache (${huggingFaceCache(env)})`;
  if (options.onProgress) download.onProgress = options.onProgress;
  if (options.signal) download.signal = options.signal;
  return fetchIntoCache(download);
}

/**
 * A plain http(s) file (e.g. a benchmark's CSV in its authors' repository), cached under the dataset cache
 * by host and path, downloaded once.
 */
export async function ensureUrlFile(url: string, options: Omit<HubDownloadOptions, "endpoint" | "token"> = {}): Promise<string> {
  const env = options.env ?? process.env;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`"${url}" is not a valid URL`);
  }
  const cacheDir = options.cacheDir ?? defaultDatasetCache(env);
  const target = urlTarget(parsed, cacheDir);
  const download: Download = { reference: url, url, target, headers: {}, hint: "Download the file yourself and pass its path with --dataset.", source: parsed.host, env };
  if (options.onProgress) download.onProgress = options.onProgress;
  if (options.signal) download.signal = options.signal;
  return fetchIntoCache(download);
}

/** Where alignbench's cache keeps a hub file. */
function hubTarget(hub: HubFile, cacheDir: string): string {
  return join(cacheDir, ...(hub.kind === "dataset" ? ["hub"] : []), hub.owner, hub.repo, hub.revision, hub.path);
}

/** Where alignbench's cache keeps a URL's file. */
function urlTarget(parsed: URL, cacheDir: string): string {
  const segments = parsed.pathname.split("/").filter((segment) => segment && segment !== "." && segment !== "..");
  return join(cacheDir, "url", parsed.host.replace(/[^A-Za-z0-9.-]/g, "_"), ...segments.map((segment) => decodeURIComponent(segment).replace(/[\\/]/g, "_")));
}

/**
 * A remote reference (hf:… or a URL) as --offline sees it: the local copy it would be read from (alignbench's
 * cache or the Hugging Face cache), else the URL a download would have to fetch it from.
 */
export function offlineSource(reference: string, options: { cacheDir?: string; env?: NodeJS.ProcessEnv } = {}): { cached: string } | { download: string } {
  const env = options.env ?? process.env;
  if (reference.startsWith("hf:")) {
    const hub = parseHubReference(reference);
    const target = hubTarget(hub, options.cacheDir ?? (hub.kind === "dataset" ? defaultDatasetCache(env) : defaultModelCache(env)));
    const cached = isCached(target) ? target : findInHuggingFaceCache(hub, env);
    return cached ? { cached } : { download: env.HF_ENDPOINT ?? "https://huggingface.co" };
  }
  const target = urlTarget(new URL(reference), options.cacheDir ?? defaultDatasetCache(env));
  return isCached(target) ? { cached: target } : { download: reference };
}

/** A remote dataset (hf:datasets/… or a URL) as a local file in the cache. */
export function ensureRemoteDataset(reference: string, options: HubDownloadOptions = {}): Promise<string> {
  if (reference.startsWith("hf:")) {
    if (parseHubReference(reference).kind !== "dataset") throw new UserError(`${reference}: a dataset on the hub is written hf:datasets/owner/repo/file`);
    return ensureHubFile(reference, options);
  }
  const { endpoint: _endpoint, token: _token, ...rest } = options;
  return ensureUrlFile(reference, rest);
}

interface Download {
  reference: string;
  url: string;
  target: string;
  headers: Record<string, string>;
  /** What to do instead, when the file cannot be fetched. */
  hint: string;
  source: string;
  accessHint?: string;
  /** Where a copy was looked for, for the errors (else the target's folder). */
  lookedIn?: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** HF_HUB_OFFLINE=1 (the hub's own convention) or ALIGNBENCH_OFFLINE=1: use cached copies only. */
function offlineMode(env: NodeJS.ProcessEnv): boolean {
  return ["HF_HUB_OFFLINE", "ALIGNBENCH_OFFLINE"].some((name) => ["1", "true", "yes"].includes((env[name] ?? "").toLowerCase()));
}

/** A complete, verified copy in alignbench's cache (the .sha256 record is written last). */
function isCached(target: string): boolean {
  return existsSync(target) && existsSync(target + ".sha256");
}

async function fetchIntoCache({ reference, url, target, headers, hint, source, accessHint, lookedIn = dirname(target), onProgress, signal, env }: Download): Promise<string> {
  if (isCached(target)) return target;
  // The file only ever takes its name once complete and verified: a stopped download leaves the .part file alone.
  const stopped = () => new InterruptedError(`download of ${reference} stopped; run again to resume it`);
  if (signal?.aborted) throw stopped();
  const offline = (cause: unknown) => (signal?.aborted ? stopped() : new UserError(`cannot download ${reference} from ${source} (${describe(cause)}) and there is no copy in ${lookedIn}. ${hint}`));
  if (offlineMode(env)) throw new UserError(`${reference} is not in the cache (${lookedIn}) and offline mode is on (HF_HUB_OFFLINE / ALIGNBENCH_OFFLINE). ${hint}`);

  // The hub names the file's sha256 and size on the resolve response (before any CDN redirect).
  let expectedSha: string | undefined;
  let totalBytes: number | undefined;
  try {
    const head = await fetch(url, { method: "HEAD", headers, redirect: "manual", ...(signal ? { signal } : {}) });
    if (head.status === 401 || head.status === 403) throw new UserError(`${reference}: access refused (HTTP ${head.status})${accessHint ? `; ${accessHint}` : ""}`);
    if (head.status === 404) throw new UserError(`${reference}: no such file on ${source}`);
    const etag = (head.headers.get("x-linked-etag") ?? head.headers.get("etag") ?? "").replace(/^W\//, "").replace(/"/g, "");
    if (/^[0-9a-f]{64}$/.test(etag)) expectedSha = etag;
    const size = Number(head.headers.get("x-linked-size") ?? head.headers.get("content-length"));
    if (Number.isFinite(size) && size > 0) totalBytes = size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw offline(error);
  }

  const partial = target + ".part";
  await mkdir(dirname(target), { recursive: true });
  const resumedFrom = existsSync(partial) ? (await stat(partial)).size : 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: resumedFrom > 0 ? { ...headers, range: `bytes=${resumedFrom}-` } : headers, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw offline(error);
  }
  if (response.status === 416 && resumedFrom > 0) {
    await response.body?.cancel();
  } else if (response.ok && response.body) {
    // 206: the server continues where the partial file ends; 200: it ignored the range, so start over.
    const append = response.status === 206;
    let received = append ? resumedFrom : 0;
    const report = () => onProgress?.({ file: reference, receivedBytes: received, totalBytes, resumedFrom: append ? resumedFrom : 0 });
    report();
    const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
    body.on("data", (chunk: Buffer) => {
      received += chunk.length;
      report();
    });
    try {
      await pipeline(body, createWriteStream(partial, { flags: append ? "a" : "w" }), ...(signal ? [{ signal }] : []));
    } catch (error) {
      if (signal?.aborted) throw stopped();
      throw new UserError(`download of ${reference} was interrupted at ${received} bytes (${describe(error)}); run again to resume it`);
    }
  } else {
    throw new UserError(`${reference}: ${source} answered HTTP ${response.status}`);
  }

  const actual = await sha256File(partial);
  if (expectedSha && actual !== expectedSha) {
    await rm(partial, { force: true });
    throw new UserError(`${reference}: checksum mismatch (the server says sha256 ${expectedSha}, the download is ${actual}); the corrupt file was removed, run again to download it afresh`);
  }
  await rename(partial, target);
  await writeFile(target + ".sha256", actual + "\n");
  return target;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
