// The two identifier rules of the platform, each defined once: UUIDs (tenant, user, entity and
// event ids, Entra ID GUIDs) and names (tenant slugs, consumer groups).
import { z } from 'zod';

/** A UUID in canonical text form, any version, either case (Entra ID GUIDs, `gen_random_uuid()`). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in canonical text form. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** The zod schema of a UUID field (event payloads, envelopes): the same rule as {@link isUuid}. */
export const uuidSchema = () => z.string().regex(UUID_PATTERN, { message: 'must be a UUID' });

/** A name: 1 to 63 lower-case letters, digits or dashes, starting with a letter or digit (a DNS label). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** What {@link NAME_PATTERN} admits, for messages. */
export const NAME_RULE = '1 to 63 lower-case letters, digits or dashes, starting with a letter or digit';

/** Whether `value` is a name (tenant slug, consumer group). */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}
