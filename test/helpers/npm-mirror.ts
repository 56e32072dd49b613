import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback npm registry holding exactly the versions package-lock.json names, so that `npm install -g` of
 * the packed tarball resolves its dependencies with no network. It serves package metadata only: every
 * version carries the lockfile's integrity, and npm takes the tarballs themselves from its own cache by that
 * digest (filled by the `npm ci` before; a tarball it lacks is answered 404 and the install fails loudly).
 */
export async function startLockfileRegistry(lockfile: string): Promise<{ url: string; requests: string[]; close(): void }> {
  const lock = JSON.parse(readFileSync(lockfile, "utf8")) as { packages: Record<string, LockEntry> };
  const packuments = new Map<string, Record<string, Manifest>>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    if (!path || !entry.version || !entry.integrity) continue;
    const versions = (packuments.get(name) ?? packuments.set(name, {}).get(name))!;
    versions[entry.version] = {
      name,
      version: entry.version,
      dependencies: entry.dependencies,
      optionalDependencies: entry.optionalDependencies,
      peerDependencies: entry.peerDependencies,
      peerDependenciesMeta: entry.peerDependenciesMeta,
      os: entry.os,
      cpu: entry.cpu,
      libc: entry.libc,
      engines: entry.engines,
      bin: entry.bin,
      hasInstallScript: entry.hasInstallScript,
      dist: { tarball: `TARBALL/${name}/-/${name.split("/").pop()}-${entry.version}.tgz`, integrity: entry.integrity },
    };
  }
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const name = decodeURIComponent((req.url ?? "/").slice(1));
    const versions = packuments.get(name);
    if (!versions) return res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    const base = `http://${req.headers.host}`;
    const body = JSON.stringify({
      name,
      "dist-tags": { latest: Object.keys(versions).at(-1) },
      versions: Object.fromEntries(
        Object.entries(versions).map(([version, manifest]) => [version, { ...manifest, dist: { ...manifest.dist, tarball: manifest.dist.tarball.replace("TARBALL", base) } }]),
      ),
    });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests, close: () => server.close() };
}

interface LockEntry {
  version?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  hasInstallScript?: boolean;
}

interface Manifest extends Omit<LockEntry, "integrity"> {
  name: string;
  dist: { tarball: string; integrity: string };
}
