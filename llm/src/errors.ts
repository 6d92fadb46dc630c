import { AppError, ErrorCode } from '#kernel/errors.ts';

/** What went wrong talking to a language model. */
export type LlmErrorKind =
  /** No answer (or no next chunk) within the timeout, on every attempt. */
  | 'timeout'
  /** The caller's AbortSignal fired (client gone, kill switch, deadline). */
  | 'aborted'
  /** 429 on every attempt. */
  | 'rate_limited'
  /** 401/403: the key or token is refused. */
  | 'unauthorized'
  /** Another HTTP status (non-retryable, or retryable on every attempt). */
  | 'http'
  /** The endpoint could not be reached (DNS, refused connection, reset). */
  | 'network'
  /** The answer is not the chat-completions protocol (bad JSON, missing fields). */
  | 'malformed'
  /** A streamed answer stopped before its end, after text had been delivered. */
  | 'interrupted'
  /** No token could be obtained for the endpoint (Entra ID). */
  | 'credentials';

/** Details of an {@link LlmError}, safe to show (no keys, no prompts). */
export interface LlmErrorDetails {
  kind: LlmErrorKind;
  /** HTTP status, when the endpoint answered one. */
  status?: number;
  /** Requests sent, retries included. */
  attempts?: number;
}

/**
 * A language model call failed. The message says what happened in words a user understands and
 * what to do; `kind` lets callers decide (a planner may retry `interrupted`, never `unauthorized`).
 * Aborts are not the service's fault, so they keep their own code path (`aborted`) but the same class.
 */
export class LlmError extends AppError {
  readonly code: ErrorCode = ErrorCode.Unavailable;
  override readonly httpStatus: number = 503;
  readonly kind: LlmErrorKind;
  readonly status: number | undefined;

  constructor(message: string, details: LlmErrorDetails, options?: ErrorOptions) {
    super(message, { ...details }, options);
    this.kind = details.kind;
    this.status = details.status;
  }
}
