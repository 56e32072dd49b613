/** Why a call failed; recorded as `error_type` and used to decide whether to retry. */
export type ErrorType = "rate_limited" | "server_error" | "timeout" | "connection" | "bad_response" | "client_error" | "judge_invalid" | "cancelled" | "internal";

const RETRYABLE: ReadonlySet<ErrorType> = new Set(["rate_limited", "server_error", "timeout", "connection", "bad_response"]);

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly status?: number,
    /** From the server's Retry-After header. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.type);
  }
}

export function errorTypeOf(error: unknown): ErrorType {
  return error instanceof ProviderError ? error.type : "internal";
}
