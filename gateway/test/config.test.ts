import { ConfigError } from '#kernel/errors.ts';
import { DEFAULT_GATEWAY_PORT, loadGatewayConfig } from '../src/config.ts';

describe('gateway configuration', () => {
  it('defaults to port 4000, supergraph.yaml routing, and no Apollo telemetry (operation limits: kernel/src/graphql/limits)', () => {
    expect(loadGatewayConfig({})).toEqual({
      port: DEFAULT_GATEWAY_PORT,
      subgraphUrls: {},
      apolloTelemetry: false,
      corsOrigins: [],
    });
  });

  it('reads CORS origins and refuses anything but an origin', () => {
    expect(
      loadGatewayConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(() => loadGatewayConfig({ CORS_ORIGINS: 'https://app.example.com/, *' })).toThrow(
      'CORS_ORIGINS must be comma-separated origins such as https://app.example.com (scheme, host and port, no path or trailing slash; got "https://app.example.com/, *")',
    );
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
