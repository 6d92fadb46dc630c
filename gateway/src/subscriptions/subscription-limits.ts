import { z } from 'zod';
import { ConfigError } from '#kernel/errors.ts';

/** Caps of the gateway's WebSocket endpoint. */
export interface SubscriptionLimits {
  /** Active subscriptions one connection may hold (`GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION`). */
  maxSubscriptionsPerConnection: number;
  /** Open connections one tenant may hold on one gateway (`GATEWAY_MAX_CONNECTIONS_PER_TENANT`). */
  maxConnectionsPerTenant: number;
}

/** The defaults: far above what one console needs, far below what exhausts a gateway. */
export const DEFAULT_SUBSCRIPTION_LIMITS: Readonly<SubscriptionLimits> = {
  maxSubscriptionsPerConnection: 50,
  maxConnectionsPerTenant: 500,
};

const count = (name: string, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(1, `${name} must be at least 1`).max(1_000_000, `${name} must be at most 1000000`))
    .optional()
    .transform((value) => value ?? fallback);

const SCHEMA = z.object({
  GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: count(
    'GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION',
    DEFAULT_SUBSCRIPTION_LIMITS.maxSubscriptionsPerConnection,
  ),
  GATEWAY_MAX_CONNECTIONS_PER_TENANT: count(
    'GATEWAY_MAX_CONNECTIONS_PER_TENANT',
    DEFAULT_SUBSCRIPTION_LIMITS.maxConnectionsPerTenant,
  ),
});

/** Reads the WebSocket caps once at start-up; every problem is reported by variable name. */
export function loadSubscriptionLimits(
  env: Readonly<Record<string, string | undefined>> = process.env,
): SubscriptionLimits {
  const blankToUndefined = (v: string | undefined) => (v === '' ? undefined : v);
  const parsed = SCHEMA.safeParse({
    GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: blankToUndefined(env.GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION),
    GATEWAY_MAX_CONNECTIONS_PER_TENANT: blankToUndefined(env.GATEWAY_MAX_CONNECTIONS_PER_TENANT),
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  return {
    maxSubscriptionsPerConnection: parsed.data.GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxConnectionsPerTenant: parsed.data.GATEWAY_MAX_CONNECTIONS_PER_TENANT,
  };
}
