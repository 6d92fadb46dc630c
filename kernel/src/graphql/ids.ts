import { ValidationError } from '../errors.ts';
import { isUuid } from '../ids.ts';

/** Checks that an `ID` argument is a UUID, naming the argument when it is not. */
export function parseId(value: string, argument = 'id'): string {
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new ValidationError(
      `${argument} must be a UUID (got ${String(JSON.stringify(value) ?? typeof value).slice(0, 80)})`,
      {
        argument,
      },
    );
  }
  return value.toLowerCase();
}
