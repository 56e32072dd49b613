import { UserError } from "../errors.js";
import type { RunConfig } from "../config/schema.js";
import { installOfflineGuard, isAllowedHost } from "../io/offline-guard.js";
import { isRemoteReference, offlineSource } from "../io/download.js";
import { ModelRegistry } from "../providers/registry.js";
import { PERSPECTIVE_ENDPOINT } from "../providers/perspective.js";
import { runRoles } from "./prepare.js";

/**
 * `--offline`, before anything runs: every model (in every role), the dataset(s) and every scorer's service
 * must be a local file, a cached copy, or a server on loopback or an --allow-host host. The first that is not
 * stops the run, named by its role and host, before any download, model load or call. (The socket guard then
 * refuses at run time whatever would still try: io/offline-guard.ts.)
 */
export function checkOffline(config: RunConfig, env: NodeJS.ProcessEnv): void {
  const allowed = config.allow_hosts;
  const refuse = (what: string, host: string, hint: string) => {
    throw new UserError(`--offline: ${what} would contact ${host}, which is not this machine: ${hint}, or allow that host with --allow-host ${host}`);
  };
  const hostOf = (url: string) => new URL(url).hostname;
  const registry = new ModelRegistry({ providers: config.providers, env, ...(config.base_url ? { baseUrl: config.base_url } : {}) });
  const copy = { ...config, models: [...config.models] };
  const others = runRoles(copy);
  const roles: Array<[string, string]> = [...copy.models.map((address): [string, string] => ["target", address]), ...others];
  for (const [role, address] of roles) {
    const { providerName, modelId } = registry.parseAddress(address);
    const local = providerName === "llamacpp" || providerName === "gguf" || config.providers[providerName]?.type === "llamacpp";
    if (local) {
      if (!modelId.startsWith("hf:")) continue;
      const cacheDir = config.providers[providerName]?.cache_dir ?? config.providers.llamacpp?.cache_dir;
      const source = offlineSource(modelId, { env, ...(cacheDir ? { cacheDir } : {}) });
      if ("download" in source && !isAllowedHost(hostOf(source.download), allowed))
        refuse(`role ${role} (${address}) is not downloaded yet and`, hostOf(source.download), "download it once without --offline (or pass llamacpp:./file.gguf)");
      continue;
    }
    const endpoint = registry.resolve(address).endpoint;
    if (endpoint && !isAllowedHost(hostOf(endpoint), allowed))
      refuse(`role ${role} (${address})`, hostOf(endpoint), "serve the model on this machine (--base-url http://127.0.0.1:PORT/v1, or a llamacpp: model)");
  }
  const datasets = [...(config.dataset ? [["dataset", config.dataset]] : []), ...(config.datasets ?? []).map((part) => [`dataset part ${part.name}`, config.part_datasets[part.name] ?? part.dataset])];
  for (const [what, reference] of datasets) {
    if (!reference || !isRemoteReference(reference)) continue;
    const source = offlineSource(reference, { env });
    if ("download" in source && !isAllowedHost(hostOf(source.download), allowed))
      refuse(`${what} ${reference} is not in the cache and`, hostOf(source.download), "download it once without --offline (or pass a local file)");
  }
  if (config.scorers.includes("perspective")) {
    const endpoint = config.perspective.endpoint ?? PERSPECTIVE_ENDPOINT;
    if (!isAllowedHost(hostOf(endpoint), allowed))
      refuse("the perspective scorer", hostOf(endpoint), "score toxicity with a local judge (--scorers toxicity_judge) or a local Perspective-compatible server (perspective.endpoint)");
  }
}

/**
 * Runs `work` under --offline when the config asks for it: the same check as a run's before the first call,
 * then the socket guard while `work` runs (steps outside a run, such as the red-team goals the attacker
 * writes before the run starts). Without --offline it simply runs `work`.
 */
export async function whileOffline<T>(config: RunConfig, env: NodeJS.ProcessEnv, work: () => Promise<T>): Promise<T> {
  if (!config.offline) return work();
  checkOffline(config, env);
  const guard = installOfflineGuard(config.allow_hosts);
  try {
    return await work();
  } finally {
    guard.uninstall();
  }
}
