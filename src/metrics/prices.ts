import type { Manifest } from "../results/manifest.js";
import { PRICE_TABLE } from "./price-table.js";
import type { Price } from "./usage.js";

/** A model's price and where it comes from: the user's `prices:`, the built-in table, or a local model (free). */
export interface ResolvedPrice extends Price {
  source: "config" | "table" | "local";
}

/** Providers that run models on this machine: their calls cost nothing per token. */
const LOCAL = new Set(["llamacpp", "gguf"]);

/**
 * A model's price: the config's entry for its address or its model id; else, for a local model, zero; else the
 * table line whose id is the longest prefix of the model id (after an aggregator's `vendor/`), ending at a
 * boundary; else undefined (its cost is then unknown, never guessed).
 */
export function priceOf(address: string, model: { provider?: string; model_id?: string } = {}, overrides: Record<string, Price> = {}): ResolvedPrice | undefined {
  const modelId = model.model_id ?? address.slice(address.indexOf(":") + 1);
  const given = overrides[address] ?? overrides[modelId];
  if (given) return { ...given, source: "config" };
  if (model.provider && LOCAL.has(model.provider)) return { input: 0, output: 0, source: "local" };
  const bare = (modelId.split("/").pop() ?? modelId).toLowerCase();
  let best: string | undefined;
  for (const id of Object.keys(PRICE_TABLE.models)) {
    if (!bare.startsWith(id) || !/^($|[-@:.])/.test(bare.slice(id.length))) continue;
    // "gpt-4.1-mini" matches both "gpt-4.1" and "gpt-4.1-mini": the longer, more specific line wins.
    if (best === undefined || id.length > best.length) best = id;
  }
  return best ? { ...PRICE_TABLE.models[best]!, source: "table" } : undefined;
}

/** The prices of a run's models (targets and every role), by address, from its manifest. */
export function runPrices(manifest: Pick<Manifest, "models" | "roles" | "config">): Record<string, ResolvedPrice> {
  const overrides = (manifest.config.prices as Record<string, Price> | undefined) ?? {};
  const out: Record<string, ResolvedPrice> = {};
  for (const model of [...manifest.models, ...Object.values(manifest.roles ?? {})]) {
    const price = priceOf(model.address, model, overrides);
    if (price) out[model.address] = price;
  }
  return out;
}
