import { ValidationError } from '#kernel/errors.ts';

/** Longest query or question, in characters. */
export const MAX_QUERY_CHARS = 1000;
/** Most hits a search returns. */
export const MAX_FIRST = 50;
/** Hits a search returns when `first` is absent. */
export const DEFAULT_FIRST = 10;

/** The trimmed query; BAD_USER_INPUT naming `argument` when it is empty or longer than {@link MAX_QUERY_CHARS}. */
export function parseQueryText(value: string, argument: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const length = [...text].length;
  if (length === 0 || length > MAX_QUERY_CHARS) {
    throw new ValidationError(
      `${argument} must be 1 to ${MAX_QUERY_CHARS} characters (got ${length}${length === 0 ? ' after trimming' : ''})`,
      { argument, maxLength: MAX_QUERY_CHARS },
    );
  }
  return text;
}

/** `first` of a search: 1 to {@link MAX_FIRST}, {@link DEFAULT_FIRST} when absent. */
export function parseFirst(value: number | null | undefined): number {
  if (value === null || value === undefined) return DEFAULT_FIRST;
  if (!Number.isInteger(value) || value < 1 || value > MAX_FIRST) {
    throw new ValidationError(`first must be from 1 to ${MAX_FIRST} (got ${value})`, {
      argument: 'first',
      max: MAX_FIRST,
    });
  }
  return value;
}
