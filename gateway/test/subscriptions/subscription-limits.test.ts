import { ConfigError } from '#kernel/errors.ts';
import {
  DEFAULT_SUBSCRIPTION_LIMITS,
  loadSubscriptionLimits,
} from '../../src/subscriptions/subscription-limits.ts';

describe('WebSocket caps configuration', () => {
  it('defaults, and reads each cap by its variable (blank counts as unset)', () => {
    expect(loadSubscriptionLimits({})).toEqual(DEFAULT_SUBSCRIPTION_LIMITS);
    expect(
      loadSubscriptionLimits({
        GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: ' ',
        GATEWAY_MAX_CONNECTIONS_PER_TENANT: '7',
      }),
    ).toEqual({ maxSubscriptionsPerConnection: 50, maxConnectionsPerTenant: 7 });
  });

  it('reports every problem at once, naming the variable', () => {
    let error: unknown;
    try {
      loadSubscriptionLimits({
        GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: '0',
        GATEWAY_MAX_CONNECTIONS_PER_TENANT: 'x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION must be a whole number from 1 to 1000000 (got "0")',
      'GATEWAY_MAX_CONNECTIONS_PER_TENANT must be a whole number from 1 to 1000000 (got "x")',
    ]);
  });
});
