/**
 * List prices of common hosted models, in dollars per million input and output tokens (standard tier: no
 * batch discount, no cached-input discount, prompts under any long-context surcharge). Data, not code: one
 * line per model id, matched as the longest prefix of a model's id (`gpt-4.1-mini-2025-04-14` → gpt-4.1-mini).
 * Prices change: the table says when it was read, and a config's `prices:` overrides any line.
 */
export const PRICE_TABLE = {
  date: "2025-10-15",
  sources: ["https://openai.com/api/pricing/", "https://www.anthropic.com/pricing#api", "https://ai.google.dev/gemini-api/docs/pricing"],
  models: {
    // OpenAI
    "gpt-5": { input: 1.25, output: 10 },
    "gpt-5-mini": { input: 0.25, output: 2 },
    "gpt-5-nano": { input: 0.05, output: 0.4 },
    "gpt-4.1": { input: 2, output: 8 },
    "gpt-4.1-mini": { input: 0.4, output: 1.6 },
    "gpt-4.1-nano": { input: 0.1, output: 0.4 },
    "gpt-4o": { input: 2.5, output: 10 },
    "gpt-4o-mini": { input: 0.15, output: 0.6 },
    o1: { input: 15, output: 60 },
    "o1-mini": { input: 1.1, output: 4.4 },
    o3: { input: 2, output: 8 },
    "o3-pro": { input: 20, output: 80 },
    "o3-mini": { input: 1.1, output: 4.4 },
    "o4-mini": { input: 1.1, output: 4.4 },
    // Anthropic
    "claude-opus-4": { input: 15, output: 75 },
    "claude-sonnet-4": { input: 3, output: 15 },
    "claude-haiku-4-5": { input: 1, output: 5 },
    "claude-3-7-sonnet": { input: 3, output: 15 },
    "claude-3-5-sonnet": { input: 3, output: 15 },
    "claude-3-5-haiku": { input: 0.8, output: 4 },
    "claude-3-haiku": { input: 0.25, output: 1.25 },
    // Google (Gemini 2.5 Pro: prompts up to 200k tokens)
    "gemini-2.5-pro": { input: 1.25, output: 10 },
    "gemini-2.5-flash": { input: 0.3, output: 2.5 },
    "gemini-2.5-flash-lite": { input: 0.1, output: 0.4 },
    "gemini-2.0-flash": { input: 0.1, output: 0.4 },
    "gemini-2.0-flash-lite": { input: 0.075, output: 0.3 },
  } as Record<string, { input: number; output: number }>,
};
