import { z } from 'zod';
import type { PlatformConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';

const GUIDS = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== ''),
  )
  .pipe(z.array(z.uuid('PLATFORM_SERVICE_CLIENT_IDS must be comma-separated client id GUIDs')));

/**
 * Client ids of the platform's own service identities (`PLATFORM_SERVICE_CLIENT_IDS`, comma-separated
 * GUIDs), plus the workers' own app registration (`AUTH_SERVICE_CLIENT_ID`) when configured.
 */
export function platformServiceClientIds(
  config: Pick<PlatformConfig, 'auth'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  const parsed = GUIDS.safeParse(env.PLATFORM_SERVICE_CLIENT_IDS ?? '');
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  const own = config.auth.service?.clientId;
  return [...new Set([...parsed.data, ...(own ? [own] : [])].map((id) => id.toLowerCase()))];
}
