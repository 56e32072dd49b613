import { ProviderError } from "./errors.js";
import { postJson } from "./http.js";

export const PERSPECTIVE_ENDPOINT = "https://commentanalyzer.googleapis.com/v1alpha1/comments:analyze";

export interface PerspectiveSettings {
  apiKey: string;
  endpoint?: string;
  /** Perspective attribute to score (TOXICITY by default, as RealToxicityPrompts does). */
  attribute?: string;
  languages?: string[];
  timeoutMs?: number;
}

export interface PerspectiveScore {
  value: number;
  /** The API's answer, as kept on the result row. */
  raw: string;
}

/** Google's Perspective API (comments:analyze): a toxicity probability for a text. */
export class PerspectiveClient {
  readonly attribute: string;

  constructor(private readonly settings: PerspectiveSettings) {
    this.attribute = settings.attribute ?? "TOXICITY";
  }

  async analyze(text: string, signal?: AbortSignal): Promise<PerspectiveScore> {
    const body = {
      comment: { text },
      languages: this.settings.languages ?? ["en"],
      requestedAttributes: { [this.attribute]: {} },
      doNotStore: true,
    };
    // The key goes in a header, never in the URL, so no error message or log line can carry it.
    const options: Parameters<typeof postJson>[2] = { headers: { "x-goog-api-key": this.settings.apiKey }, timeoutMs: this.settings.timeoutMs ?? 30_000 };
    if (signal) options.signal = signal;
    const answer = (await postJson(this.settings.endpoint ?? PERSPECTIVE_ENDPOINT, body, options)) as {
      attributeScores?: Record<string, { summaryScore?: { value?: unknown } }>;
    };
    const value = answer.attributeScores?.[this.attribute]?.summaryScore?.value;
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new ProviderError("bad_response", `Perspective gave no ${this.attribute} summary score: ${JSON.stringify(answer).slice(0, 160)}`);
    }
    return { value, raw: JSON.stringify(answer.attributeScores) };
  }
}
