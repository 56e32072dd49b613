import { builtinProviders } from "../providers/registry.js";

/** The model-address part of `alignbench run --help`: the built-in providers, read from the registry's table. */
export function providersHelp(): string {
  const rows = builtinProviders().map((entry) => {
    const key = entry.apiKeyEnv ? (entry.keyRequired ? entry.apiKeyEnv : `${entry.apiKeyEnv} (optional)`) : "no key";
    return `  ${(entry.name + ":").padEnd(17)}${entry.baseUrl} (${entry.baseUrlEnv}), ${key}`;
  });
  return [
    "Models are provider:model. A bare name (no colon) goes to the default OpenAI-compatible endpoint",
    "(--base-url, else OPENAI_BASE_URL); an unknown provider is an error. Colons after the provider stay in",
    "the id (ollama:llama3:8b). Providers:",
    ...rows,
    `  ${"llamacpp:".padEnd(17)}a local GGUF file in-process: llamacpp:./model.gguf, llamacpp:hf:owner/repo/file.gguf`,
    "  and any name added under providers: in a config file.",
  ].join("\n");
}
