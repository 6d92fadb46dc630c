import { ValidationError } from '../../errors.ts';

/**
 * PostgreSQL text cannot hold U+0000; refuse it at the boundary with a clear message instead of
 * letting the database fail the statement.
 */
export function assertNoNulCharacters(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      throw new ValidationError(`${path} contains a NUL character (U+0000), which is not allowed`, {
        argument: path,
      });
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertNoNulCharacters(item, `${path}[${i}]`);
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) assertNoNulCharacters(item, `${path}.${key}`);
  }
}
