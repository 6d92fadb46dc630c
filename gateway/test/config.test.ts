import { ConfigError } from '#kernel/errors.ts';
import { DEFAULT_GATEWAY_LIMITS, DEFAULT_GATEWAY_PORT, loadGatewayConfig } from '../src/config.ts';

describe('gateway configuration', () => {
  it('defaults to port 4000, supergraph.yaml routing, no Apollo telemetry and the documented limits', () => {
    expect(loadGatewayConfig({})).toEqual({
      port: DEFAULT_GATEWAY_PORT,
      subgraphUrls: {},
      apolloTelemetry: false,
      limits: DEFAULT_GATEWAY_LIMITS,
    });
  });

  it('reads routing overrides by subgraph name', () => {
    expect(loadGatewayConfig({ AGENT_URL: 'http://agent:4002/graphql' }).subgraphUrls).toEqual({
      agent: 'http://agent:4002/graphql',
    });
  });

  it('reports every problem at once, naming the variable', () => {
    let error: unknown;
    try {
      loadGatewayConfig({ GATEWAY_PORT: '70000', KNOWLEDGE_URL: 'ftp://x', GATEWAY_MAX_DEPTH: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'GATEWAY_PORT must be a whole number from 0 to 65535 (got "70000")',
      'KNOWLEDGE_URL must be an http:// or https:// URL',
      'GATEWAY_MAX_DEPTH must be a whole number from 1 to 1000 (got "0")',
    ]);
  });
});
