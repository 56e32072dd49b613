import type { OfflineGuard } from "../io/offline-guard.js";
import type { Manifest } from "../results/manifest.js";
import type { RunLog } from "../results/run-log.js";
import type { RunReporter } from "./reporter.js";

/**
 * The manifest's account of --offline for a run, across its sessions: verified only when every session ran
 * offline and no connection to another host was attempted; the hosts contacted and every refused attempt
 * (with what tried) are listed. A session run without --offline on an offline run withdraws "verified".
 */
export function recordOffline(manifest: Manifest, previous: Manifest | undefined, guard: OfflineGuard | undefined, log: RunLog, reporter: RunReporter): void {
  const before = previous?.offline;
  if (!guard) {
    if (before) manifest.offline = { ...before, verified: false };
    return;
  }
  // Sessions before this one that left no record ran online (all but the one just begun).
  const earlierOnline = previous !== undefined && !before && previous.sessions.length > 0;
  const refused = [...(before?.refused ?? []), ...guard.refused()];
  const contacted = [...new Set([...(before?.hosts_contacted ?? []), ...guard.contacted()])];
  manifest.offline = {
    verified: refused.length === 0 && !earlierOnline && (before?.verified ?? true),
    allowed_hosts: [...new Set([...(before?.allowed_hosts ?? []), ...guard.allowedHosts])],
    hosts_contacted: contacted,
    refused,
  };
  for (const attempt of guard.refused()) log.warn("offline_refused", { ...attempt });
  const hosts = contacted.length > 0 ? contacted.join(", ") : "none";
  if (manifest.offline.verified) reporter.onMessage?.(`offline: verified (hosts contacted: ${hosts})`);
  else if (refused.length > 0)
    reporter.onMessage?.(`offline: ${refused.length} connection attempt(s) to other hosts refused and recorded (first: ${refused[0]!.host}:${refused[0]!.port ?? ""}); hosts contacted: ${hosts}`);
  else reporter.onMessage?.(`offline: not verified (an earlier session of this run ran without --offline); hosts contacted: ${hosts}`);
}
