import { nearest } from "../config/suggest.js";
import { UserError } from "../errors.js";

/** What reading an address needs to know of the registry. */
export interface AddressContext {
  /** Every provider name an address may start with: built-in, local and the run's `providers:` entries. */
  names: string[];
  /**
   * Whether bare names go to OpenAI's own API: there `openai/gpt-4o` and `model.gguf` are surely mistakes,
   * while on another OpenAI-compatible server (OpenRouter, vLLM…) they may be real model ids.
   */
  defaultIsOpenAI: boolean;
}

export interface ModelAddress {
  providerName: string;
  modelId: string;
}

/**
 * `provider:model`, or a bare name (no colon, or an OpenAI fine-tune `ft:…`) for the default OpenAI-compatible endpoint. Text after a known
 * provider's colon is the id, colons included (`ollama:llama3:8b`). An unknown prefix is an error with the
 * nearest valid spelling, never a silent OpenAI model id.
 */
export function parseModelAddress(address: string, context: AddressContext): ModelAddress {
  const known = new Set(context.names);
  const colon = address.indexOf(":");
  if (colon === 0) throw new UserError(`model "${address}": no provider before ":" (write provider:model, e.g. openai:gpt-4.1)`);
  if (colon > 0) {
    const prefix = address.slice(0, colon);
    if (known.has(prefix)) return { providerName: prefix, modelId: address.slice(colon + 1) };
    // OpenAI's fine-tuned models are named `ft:base:org::id`: a model id of the default endpoint, not a provider.
    if (prefix === "ft") return { providerName: "openai", modelId: address };
    throw new UserError(`model "${address}": ${unknownPrefix(address, prefix, address.slice(colon + 1), context)}`);
  }
  if (context.defaultIsOpenAI) {
    const slash = address.indexOf("/");
    const vendor = slash > 0 ? address.slice(0, slash) : "";
    if (known.has(vendor)) {
      const rest = address.slice(slash + 1);
      throw new UserError(
        `model "${address}": did you mean ${vendor}:${rest}? alignbench writes provider:model; "${address}" as a model id would go to OpenAI's API, which has no such model ` +
          `(on OpenRouter it is openrouter:${address})`,
      );
    }
    if (/\.gguf$/i.test(address)) throw new UserError(`model "${address}": did you mean llamacpp:${address}? GGUF files run in-process through llamacpp:`);
  }
  return { providerName: "openai", modelId: address };
}

function unknownPrefix(address: string, prefix: string, rest: string, context: AddressContext): string {
  const list = `known providers: ${context.names.join(", ")}`;
  // A hub reference or a file path given without its provider.
  if (prefix === "hf" || /\.gguf$/i.test(address)) return `did you mean llamacpp:${address}? GGUF files run in-process through llamacpp: (${list})`;
  const near = nearest(prefix, context.names);
  // `llama3:8b` is an Ollama-style tag: the colon belongs to the id, which then needs its provider first.
  if (/^(\d[\w.-]*|latest)$/i.test(rest)) {
    const typo = near ? `; if you meant the provider ${near}, ${near}:${rest}` : "";
    return `unknown provider "${prefix}": if "${address}" is the model's id, put its provider first (ollama:${address} or openai:${address})${typo} (${list})`;
  }
  if (near) return `unknown provider "${prefix}": did you mean ${near}:${rest}? (${list})`;
  return `unknown provider "${prefix}": a model id containing ":" needs its provider first, e.g. openai:${address} (${list})`;
}
