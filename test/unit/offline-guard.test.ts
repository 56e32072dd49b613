import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { request } from "undici";
import { activeOfflineGuard, installOfflineGuard, isAllowedHost, isLoopback, OFFLINE_REFUSED } from "../../src/io/offline-guard.js";
import { postJson } from "../../src/providers/http.js";

// The guard sits under every client: these tests open real sockets (fetch, undici, node:http, net) from this
// process to a non-local address and to a loopback server. A refused connection never leaves the machine: it
// is destroyed before any DNS lookup or packet (the addresses used here are TEST-NET-3, RFC 5737, besides).

afterEach(() => activeOfflineGuard()?.uninstall());

async function loopbackServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("offline guard", () => {
  it("knows loopback: localhost, 127.0.0.0/8, ::1 and its IPv4-mapped form; nothing else unless listed", () => {
    for (const host of ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "api.localhost"]) expect(isLoopback(host), host).toBe(true);
    for (const host of ["10.0.0.1", "192.168.1.2", "api.openai.com", "0.0.0.0", "::", "128.0.0.1", "localhost.example.com"]) expect(isLoopback(host), host).toBe(false);
    expect(isAllowedHost("gpu-box.lan", ["GPU-box.lan"])).toBe(true);
    expect(isAllowedHost("gpu-box2.lan", ["gpu-box.lan"])).toBe(false);
  });

  it("refuses fetch, undici, node:http and net to a non-local host, records each attempt, and lets loopback through", async () => {
    const server = await loopbackServer();
    try {
      const guard = installOfflineGuard();
      await expect(fetch("http://203.0.113.7:8080/v1")).rejects.toMatchObject({ cause: { code: OFFLINE_REFUSED } });
      await expect(request("https://203.0.113.8/")).rejects.toMatchObject({ code: OFFLINE_REFUSED });
      await expect(new Promise((resolve, reject) => get("http://203.0.113.9:81/", resolve).on("error", reject))).rejects.toMatchObject({ code: OFFLINE_REFUSED });
      await expect(
        new Promise((resolve, reject) => {
          const socket = net.connect(443, "example.com", () => resolve(socket));
          socket.on("error", reject);
        }),
      ).rejects.toMatchObject({ code: OFFLINE_REFUSED, message: expect.stringContaining("example.com:443 refused") });
      // A provider call is refused as a client error (never retried): the message names the host.
      await expect(postJson("http://203.0.113.10:9/v1/chat/completions", {}, { headers: {}, timeoutMs: 5000 })).rejects.toMatchObject({
        type: "client_error",
        message: expect.stringContaining("203.0.113.10:9 refused"),
      });
      expect((await (await fetch(server.url)).json()) as unknown).toEqual({ ok: true });
      expect(guard.refused().map((entry) => `${entry.host}:${entry.port}`)).toEqual(["203.0.113.7:8080", "203.0.113.8:443", "203.0.113.9:81", "example.com:443", "203.0.113.10:9"]);
      expect(guard.contacted()).toEqual([server.url.slice("http://".length, -1)]);
      guard.uninstall();
      expect(activeOfflineGuard()).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it("lets a listed host through", async () => {
    const guard = installOfflineGuard(["203.0.113.50"]);
    // Listed: the connection is attempted (and fails, or times out, on its own: nothing answers there).
    const attempt = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: "203.0.113.50", port: 9, timeout: 200 });
      socket.on("timeout", () => {
        socket.destroy();
        resolve("attempted");
      });
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === OFFLINE_REFUSED ? "refused" : "attempted"));
    });
    expect(attempt).toBe("attempted");
    expect(guard.refused()).toEqual([]);
    expect(guard.contacted()).toEqual(["203.0.113.50:9"]);
  });
});
