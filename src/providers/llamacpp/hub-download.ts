import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UserError } from "../../errors.js";
import { sha256File } from "../../io/hash-file.js";

/** `hf:owner/repo/path/to/file.gguf`, optionally `@revision` at the end. */
export interface HubFile {
  owner: string;
  repo: string;
  path: string;
  revision: string;
}

export function parseHubReference(reference: string): HubFile {
  const match = /^hf:([^/\s]+)\/([^/\s]+)\/([^@\s]+?)(?:@([^@\s/]+))?$/.exec(reference);
  if (!match) throw new UserError(`"${reference}" is not a hub file: write hf:owner/repo/file.gguf (optionally @revision)`);
  return { owner: match[1]!, repo: match[2]!, path: match[3]!, revision: match[4] ?? "main" };
}

export function defaultModelCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.ALIGNBENCH_MODEL_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "alignbench", "models");
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
  env?: NodeJS.ProcessEnv;
}

/**
 * A hub file in the local cache, downloaded on first use: resumed from a partial download (HTTP Range),
 * verified against the sha256 the hub advertises, and reused afterwards without any network access.
 */
export async function ensureHubFile(reference: string, options: HubDownloadOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const hub = parseHubReference(reference);
  const cacheDir = options.cacheDir ?? defaultModelCache(env);
  const target = join(cacheDir, hub.owner, hub.repo, hub.revision, hub.path);
  if (existsSync(target) && existsSync(target + ".sha256")) return target;

  const endpoint = (options.endpoint ?? env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const url = `${endpoint}/${hub.owner}/${hub.repo}/resolve/${encodeURIComponent(hub.revision)}/${hub.path.split("/").map(encodeURIComponent).join("/")}`;
  const headers: Record<string, string> = {};
  const token = options.token ?? env.HF_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  const offline = (cause: unknown) =>
    new UserError(
      `cannot download ${reference} from ${endpoint} (${describe(cause)}) and there is no copy in ${cacheDir}. ` +
        "Download the file yourself and pass it as llamacpp:./path/to/file.gguf, or set HF_ENDPOINT to a reachable mirror.",
    );

  // The hub names the file's sha256 and size on the resolve response (before any CDN redirect).
  let expectedSha: string | undefined;
  let totalBytes: number | undefined;
  try {
    const head = await fetch(url, { method: "HEAD", headers, redirect: "manual" });
    if (head.status === 401 || head.status === 403) throw new UserError(`${reference}: the hub refused access (HTTP ${head.status}); set HF_TOKEN for gated or private models`);
    if (head.status === 404) throw new UserError(`${reference}: no such file on ${endpoint}`);
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
    response = await fetch(url, { headers: resumedFrom > 0 ? { ...headers, range: `bytes=${resumedFrom}-` } : headers });
  } catch (error) {
    throw offline(error);
  }
  if (response.status === 416 && resumedFrom > 0) {
    await response.body?.cancel();
  } else if (response.ok && response.body) {
    // 206: the server continues where the partial file ends; 200: it ignored the range, so start over.
    const append = response.status === 206;
    let received = append ? resumedFrom : 0;
    const report = () => options.onProgress?.({ file: reference, receivedBytes: received, totalBytes, resumedFrom: append ? resumedFrom : 0 });
    report();
    const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
    body.on("data", (chunk: Buffer) => {
      received += chunk.length;
      report();
    });
    try {
      await pipeline(body, createWriteStream(partial, { flags: append ? "a" : "w" }));
    } catch (error) {
      throw new UserError(`download of ${reference} was interrupted at ${received} bytes (${describe(error)}); run again to resume it`);
    }
  } else {
    throw new UserError(`${reference}: ${endpoint} answered HTTP ${response.status}`);
  }

  const actual = await sha256File(partial);
  if (expectedSha && actual !== expectedSha) {
    await rm(partial, { force: true });
    throw new UserError(`${reference}: checksum mismatch (the hub says sha256 ${expectedSha}, the download is ${actual}); the corrupt file was removed, run again to download it afresh`);
  }
  await rename(partial, target);
  await writeFile(target + ".sha256", actual + "\n");
  return target;
}



function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
