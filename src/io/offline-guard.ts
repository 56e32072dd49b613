import net from "node:net";
import { isIP } from "node:net";

/**
 * `--offline`, enforced where every connection starts: `net.Socket.prototype.connect`. node:http, node:https,
 * tls.connect, undici (alignbench's provider client) and the global fetch (the downloader) all open their
 * TCP connections through it, so one guard covers every HTTP client in the process, and any code path that
 * would reach out anyway, without each client having to cooperate. A connection to a host that is not
 * loopback (or listed with --allow-host) is refused before any DNS lookup or packet: the socket is destroyed
 * with an OfflineRefusal, and the attempt is recorded. A name that is allowed but resolves to another address
 * is refused when the lookup answers, before the connection is made.
 */

export const OFFLINE_REFUSED = "ERR_ALIGNBENCH_OFFLINE";

/** The error a refused connection fails with (its `code` is OFFLINE_REFUSED). */
export class OfflineRefusal extends Error {
  readonly code = OFFLINE_REFUSED;
  constructor(
    readonly host: string,
    readonly port: number | null,
  ) {
    super(`--offline: connection to ${host}${port === null ? "" : `:${port}`} refused (only loopback and --allow-host hosts may be contacted)`);
    this.name = "OfflineRefusal";
  }
}

export interface RefusedConnection {
  host: string;
  port: number | null;
  at: string;
  /** The first frame of the code that tried, outside Node's own modules and this file. */
  by: string;
}

export interface OfflineGuard {
  readonly allowedHosts: readonly string[];
  /** host:port of every connection allowed, in first-seen order. */
  contacted(): string[];
  refused(): RefusedConnection[];
  /** Restores the original connect (a process that ran offline once is not offline forever: tests, the library). */
  uninstall(): void;
}

/** Whether a host is this machine: localhost, 127.0.0.0/8, ::1 (also IPv4-mapped). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)?.[1];
  const address = mapped ?? bare;
  if (isIP(address) === 4) return address.startsWith("127.");
  if (isIP(address) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(address) || address === "::1";
  return false;
}

/** Whether a host may be contacted offline: loopback, or one of the user's hosts (names and addresses, case-insensitive). */
export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return isLoopback(bare) || allowed.some((entry) => entry.replace(/^\[|\]$/g, "").toLowerCase() === bare);
}

let active: { guard: OfflineGuard; original: typeof net.Socket.prototype.connect } | undefined;

/** The guard installed now, if any. */
export function activeOfflineGuard(): OfflineGuard | undefined {
  return active?.guard;
}

/** Installs the guard (once: a second call returns the one installed, with the new hosts added). */
export function installOfflineGuard(allowHosts: readonly string[] = []): OfflineGuard {
  if (active) {
    (active.guard.allowedHosts as string[]).push(...allowHosts.filter((host) => !active!.guard.allowedHosts.includes(host)));
    return active.guard;
  }
  const allowed = [...allowHosts];
  const contacted = new Set<string>();
  const refused: RefusedConnection[] = [];
  const original = net.Socket.prototype.connect;
  const refuse = (socket: net.Socket, host: string, port: number | null): net.Socket => {
    refused.push({ host, port, at: new Date().toISOString(), by: caller() });
    // Asynchronously, as a failed connection fails: every client handles the socket's error event.
    process.nextTick(() => socket.destroy(new OfflineRefusal(host, port)));
    return socket;
  };
  const guarded = function (this: net.Socket, ...args: unknown[]): net.Socket {
    const target = connectTarget(args);
    // A Unix socket or Windows pipe is this machine's by definition.
    if (target.path !== undefined) return original.apply(this, args as Parameters<typeof original>);
    if (!isAllowedHost(target.host, allowed)) return refuse(this, target.host, target.port);
    // An allowed name must also resolve to loopback, unless the user listed it (their machine, their choice).
    if (!isLoopback(target.host) || isIP(target.host.replace(/^\[|\]$/g, "")) === 0) {
      this.once("lookup", (error: Error | null, address: string) => {
        if (!error && !isAllowedHost(address, allowed) && !allowed.some((entry) => entry.toLowerCase() === target.host.toLowerCase())) {
          refused.push({ host: `${target.host} (${address})`, port: target.port, at: new Date().toISOString(), by: caller() });
          this.destroy(new OfflineRefusal(`${target.host} (${address})`, target.port));
        }
      });
    }
    contacted.add(`${target.host}${target.port === null ? "" : `:${target.port}`}`);
    return original.apply(this, args as Parameters<typeof original>);
  };
  net.Socket.prototype.connect = guarded as typeof net.Socket.prototype.connect;
  const guard: OfflineGuard = {
    allowedHosts: allowed,
    contacted: () => [...contacted],
    refused: () => refused.map((entry) => ({ ...entry })),
    uninstall: () => {
      if (active?.guard !== guard) return;
      net.Socket.prototype.connect = original;
      active = undefined;
    },
  };
  active = { guard, original };
  return guard;
}

/**
 * Where a connect call goes, from any of its forms: (options[, cb]), (path[, cb]), (port[, host][, cb]), or
 * the array net.connect hands its socket (Node's normalized arguments: [options, cb]).
 */
function connectTarget(args: unknown[]): { host: string; port: number | null; path?: string } {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (first && typeof first === "object") {
    const options = first as { host?: unknown; port?: unknown; path?: unknown };
    if (typeof options.path === "string") return { host: "localhost", port: null, path: options.path };
    return { host: typeof options.host === "string" && options.host !== "" ? options.host : "localhost", port: portOf(options.port) };
  }
  if (typeof first === "string" && !/^\d+$/.test(first)) return { host: "localhost", port: null, path: first };
  const host = typeof args[1] === "string" ? args[1] : "localhost";
  return { host, port: portOf(first) };
}

function portOf(value: unknown): number | null {
  const port = Number(value);
  return Number.isInteger(port) ? port : null;
}

/** The first stack frame outside Node's modules, dependencies' connection code and this file: what tried to connect. */
function caller(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  const own = frames.find((frame) => !frame.includes("node:") && !frame.includes("offline-guard") && !frame.includes("node_modules/undici"));
  return (own ?? frames[0] ?? "").trim().replace(/^at /, "").slice(0, 300);
}
