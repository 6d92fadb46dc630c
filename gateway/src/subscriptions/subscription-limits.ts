import { z } from 'zod';
import { type Env, int, parseEnv } from '#kernel/config.ts';

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

const MAX = 1_000_000;

const schema = z
  .object({
    GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(
      DEFAULT_SUBSCRIPTION_LIMITS.maxSubscriptionsPerConnection,
      1,
      MAX,
    ),
    GATEWAY_MAX_CONNECTIONS_PER_TENANT: int(DEFAULT_SUBSCRIPTION_LIMITS.maxConnectionsPerTenant, 1, MAX),
  })
  .transform(
    (env): SubscriptionLimits => ({
      maxSubscriptionsPerConnection: env.GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxConnectionsPerTenant: env.GATEWAY_MAX_CONNECTIONS_PER_TENANT,
    }),
  );

/** Reads the WebSocket caps once at start-up, on the kernel's readers; every problem names its variable. */
export function loadSubscriptionLimits(env: Env = process.env): SubscriptionLimits {
  return parseEnv(schema, env);
}
