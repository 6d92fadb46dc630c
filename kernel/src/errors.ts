/** Stable error codes that reach clients in `extensions.code`. */
export const ErrorCode = {
  BadUserInput: 'BAD_USER_INPUT',
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  Unavailable: 'SERVICE_UNAVAILABLE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  BudgetExceeded: 'BUDGET_EXCEEDED',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;

/** One of the stable error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error whose message is written for the caller. */
export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  /** HTTP status used when the error ends a request before GraphQL execution. */
  readonly httpStatus: number = 400;
  /** Extra, client-safe details (field names, limits). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The caller sent something invalid; the message says what and how to fix it. */
export class ValidationError extends AppError {
  readonly code = ErrorCode.BadUserInput;
}

/** No valid identity: the token is absent, malformed, forged or expired. */
export class AuthenticationError extends AppError {
  readonly code = ErrorCode.Unauthenticated;
  override readonly httpStatus = 401;
}

/** A valid identity that may not do this. */
export class ForbiddenError extends AppError {
  readonly code = ErrorCode.Forbidden;
  override readonly httpStatus = 403;
}

/** The thing asked for does not exist for this caller (or belongs to another tenant). */
export class NotFoundError extends AppError {
  readonly code = ErrorCode.NotFound;
  override readonly httpStatus = 404;
}

/** The request conflicts with the current state. */
export class ConflictError extends AppError {
  readonly code = ErrorCode.Conflict;
  override readonly httpStatus = 409;
}

/** A dependency (database, identity provider) cannot be reached right now. */
export class UnavailableError extends AppError {
  readonly code = ErrorCode.Unavailable;
  override readonly httpStatus = 503;
}

/** The content is of a kind the service does not accept; the message names it and what is accepted. */
export class UnsupportedMediaTypeError extends AppError {
  readonly code = ErrorCode.UnsupportedMediaType;
  override readonly httpStatus = 415;
}

/** The content is larger than a configured limit; the message names the limit. */
export class PayloadTooLargeError extends AppError {
  readonly code = ErrorCode.PayloadTooLarge;
  override readonly httpStatus = 413;
}

/** A monthly token budget would be exceeded by a model call; the message names the budget, the use and the reset. */
export class BudgetExceededError extends AppError {
  readonly code = ErrorCode.BudgetExceeded;
  override readonly httpStatus = 429;
}

/** Configuration is missing or invalid; raised at start-up, never sent to clients. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A database call was attempted outside a tenant context. */
export class MissingTenantContextError extends Error {
  constructor(what: string) {
    super(`${what} ran outside a tenant context; open one with withTenant()`);
    this.name = 'MissingTenantContextError';
  }
}
