import { DEFAULT_PORTS, loadConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';

describe('configuration', () => {
  it('defaults to the embedded platform on the documented ports', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.auth.jwksUrl).toBeUndefined();
    expect(config.ports).toEqual(DEFAULT_PORTS);
    expect(config.apolloTelemetry).toBe(false);
    expect(config.introspection).toBe(true);
  });

  it('reports every problem at once, each naming the variable and what it must be', () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://x',
        GATEWAY_PORT: '70000',
        TENANT_AUTO_PROVISION: 'maybe',
        AUTH_JWKS_URL: 'https://idp/keys',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'GATEWAY_PORT must be a whole number from 0 to 65535 (got "70000")',
      'DATABASE_URL must be a postgres:// URL',
      'AUTH_ISSUER must be set when AUTH_JWKS_URL is set (e.g. https://login.microsoftonline.com/{tid}/v2.0)',
      'TENANT_AUTO_PROVISION must be true or false (got "maybe")',
    ]);
  });

  it('turns introspection off in production unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
  });

  it('uses MIGRATION_DATABASE_URL for migrations and falls back to DATABASE_URL', () => {
    const url = 'postgres://widgetdc_app@db/widgetdc';
    expect(loadConfig({ DATABASE_URL: url }).database.migrationUrl).toBe(url);
    expect(
      loadConfig({ DATABASE_URL: url, MIGRATION_DATABASE_URL: 'postgres://postgres@db/widgetdc' }).database
        .migrationUrl,
    ).toBe('postgres://postgres@db/widgetdc');
  });
});
