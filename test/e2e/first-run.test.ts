import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { startLockfileRegistry } from "../helpers/npm-mirror.js";
import { needs } from "../helpers/requirements.js";
import { tempDir } from "../helpers/run-folder.js";

/**
 * A new user's first hour, as the README tells it: the README's first two commands on a fresh copy of the
 * project outside its folder, and the packed tarball installed globally. The default model comes from a
 * loopback hub (a tiny random-weight GGUF under the default model's name); npm installs from its cache only
 * (`.ci/run`'s own `npm ci` has filled it) and a loopback mirror of the lockfile, so nothing is downloaded.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEFAULT_MODEL_PATH = "/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf";

/** The README's first shell block: the command that installs and runs, and the one that tests. */
function readmeFirstCommands(readme: string): string[] {
  const block = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line && !line.startsWith("#"));
}

/** What a clone would hold: the tracked and not-ignored files of this checkout, copied. */
function copyCheckout(to: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    // Deleted in the working tree and not yet committed, or a link (a worktree's node_modules): not in a clone.
    if (!existsSync(join(ROOT, file)) || !lstatSync(join(ROOT, file)).isFile()) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(to, file));
  }
}

/** The environment of a user's shell: none of the variables the outer `npm test` sets for its scripts. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^(npm_|ALIGNBENCH_|VITEST|NODE_OPTIONS$|INIT_CWD$)/i.test(name)) env[name] = value;
  return { ...env, npm_config_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra };
}

function shell(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the README's first commands", () => {
  it("are the install-and-run command and npm test, in that order", () => {
    const [install, test] = readmeFirstCommands(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(install).toBe("npm ci && npx alignbench run");
    expect(test).toBe("npm test");
  });
});

describe.skipIf(!needs("git", "llama"))("a fresh copy outside the project, as a new user runs it", () => {
  let hub: Server;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let clone: string;
  const requests: string[] = [];

  beforeAll(async () => {
    work = tempDir("alignbench-first-run-");
    const model = join(work, "tiny.gguf");
    writeRandomLlama(model, { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 300, seed: 11 });
    const bytes = readFileSync(model);
    hub = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url !== DEFAULT_MODEL_PATH) return res.writeHead(404).end();
      if (req.method === "HEAD") return res.writeHead(200, { "x-linked-etag": createHash("sha256").update(bytes).digest("hex"), "x-linked-size": String(bytes.length) }).end();
      res.writeHead(200, { "content-length": String(bytes.length) }).end(bytes);
    });
    await new Promise<void>((resolve) => hub.listen(0, "127.0.0.1", resolve));
    env = userEnv({
      HF_ENDPOINT: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`,
      ALIGNBENCH_MODEL_CACHE: join(work, "model-cache"),
      HF_HUB_CACHE: join(work, "hf-cache"),
      CI: "true",
    });
    clone = join(work, "alignbench");
    copyCheckout(clone);
  });
  afterAll(() => hub?.close());

  it("the README's first command installs, downloads the default model and runs the main job through to its summary", { timeout: 600_000 }, async () => {
    const [install] = readmeFirstCommands(readFileSync(join(clone, "README.md"), "utf8"));
    const result = await shell(install!, { cwd: clone, env });
    expect(result.code, result.output.slice(-4000)).toBe(0);
    expect(result.output).toContain("no --models given: using the default local model");
    expect(requests).toContain(`GET ${DEFAULT_MODEL_PATH}`);
    // The run reached its end: the summary was printed and the run folder is complete.
    const runs = readdirSync(join(clone, "results"));
    expect(runs).toHaveLength(1);
    const folder = join(clone, "results", runs[0]!);
    for (const file of ["manifest.json", "summary.json", "results.parquet", "results.csv"]) expect(existsSync(join(folder, file)), file).toBe(true);
    const summary = JSON.parse(readFileSync(join(folder, "summary.json"), "utf8")) as { totals: { n: number; errors: number } };
    expect(summary.totals).toMatchObject({ n: 20, errors: 0 });
    // The lockfile was accepted as it is: installing did not change it.
    expect(readFileSync(join(clone, "package-lock.json"), "utf8")).toBe(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  });

  it("npm pack, then npm install -g of the tarball, gives an alignbench command that runs", { timeout: 600_000 }, async () => {
    const packed = await shell("npm pack --silent", { cwd: clone, env });
    expect(packed.code, packed.output.slice(-4000)).toBe(0);
    const tarball = readdirSync(clone).find((name) => /^alignbench-.*\.tgz$/.test(name));
    expect(tarball, packed.output).toBeDefined();
    const prefix = join(work, "global");
    // npm resolves the tarball's dependency ranges through registry metadata: a loopback mirror of the lockfile.
    const registry = await startLockfileRegistry(join(clone, "package-lock.json"));
    try {
      const installed = await shell(`npm install -g --prefix '${prefix}' --registry '${registry.url}' --offline=false --prefer-offline './${tarball}'`, { cwd: clone, env });
      expect(installed.code, installed.output.slice(-4000)).toBe(0);
    } finally {
      registry.close();
    }
    const bin = join(prefix, "bin", "alignbench");
    const version = await shell(`'${bin}' --version`, { cwd: work, env });
    expect(version.output.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    // From any folder, the default model (already cached by the first run) and the built-in suite.
    const elsewhere = tempDir("alignbench-elsewhere-");
    const before = requests.filter((request) => request.startsWith("GET")).length;
    const ran = await shell(`'${bin}' run --limit 3 --max-tokens 8 --run-id from-tarball`, { cwd: elsewhere, env });
    expect(ran.code, ran.output.slice(-4000)).toBe(0);
    expect(existsSync(join(elsewhere, "results", "from-tarball", "summary.json"))).toBe(true);
    expect(requests.filter((request) => request.startsWith("GET")).length).toBe(before);
  });
});
