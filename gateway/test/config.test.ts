import { ConfigError } from '#kernel/errors.ts';
import { DEFAULT_GATEWAY_PORT, loadGatewayConfig } from '../src/config.ts';

describe('gateway configuration', () => {
  it('defaults to port 4000, supergraph.yaml routing, and no Apollo telemetry (operation limits: kernel/src/graphql/limits)', () => {
    expect(loadGatewayConfig({})).toEqual({
      port: DEFAULT_GATEWAY_PORT,
      subgraphUrls: {},
      apolloTelemetry: false,
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
      loadGatewayConfig({ GATEWAY_PORT: '70000', KNOWLEDGE_URL: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'GATEWAY_PORT must be a whole number from 0 to 65535 (got "70000")',
      'KNOWLEDGE_URL must be an http:// or https:// URL',
    ]);
  });
});
