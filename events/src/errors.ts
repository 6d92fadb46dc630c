/** A consumer failure worth another attempt (a dependency was down, a precondition not met yet). */
export class RetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** A consumer failure no retry can fix (invalid event, broken invariant): dead-lettered at once. */
export class UnrecoverableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnrecoverableError';
  }
}

/** Whether a failure must skip the remaining attempts. Unknown errors count as retryable. */
export function isUnrecoverable(error: unknown): boolean {
  return error instanceof UnrecoverableError || (error as { name?: string })?.name === 'ZodError';
}

/** A short, single-line description of a failure for dead-letter records. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replaceAll(/\s+/g, ' ').slice(0, 2000);
}
