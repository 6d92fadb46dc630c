import { z } from 'zod';
import { DEFAULT_DB_POOL_MAX, DEFAULT_DEV_ISSUER_PORT, loadConfig, parseEnv, port } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';

/** The problems `load` reports, or a failure when it reports none. */
function problems(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to the embedded platform', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.database.poolMax).toBe(DEFAULT_DB_POOL_MAX);
    expect(config.auth.jwksUrl).toBeUndefined();
    expect(config.auth.devIssuerPort).toBe(DEFAULT_DEV_ISSUER_PORT);
    expect(config.host).toBe('127.0.0.1');
    expect(config.introspection).toBe(true);
    expect(config.log).toEqual({ level: 'info', format: 'pretty' });
  });

  it('knows no subgraph or gateway setting', () => {
    const config = loadConfig({}) as unknown as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(
      ['auth', 'database', 'dataDir', 'host', 'introspection', 'log', 'nodeEnv', 'otlpEndpoint'].sort(),
    );
  });

  it('reports every problem at once, each naming the variable and what it must be', () => {
    expect(
      problems(() =>
        loadConfig({
          DATABASE_URL: 'mysql://x',
          DEV_ISSUER_PORT: '70000',
          TENANT_AUTO_PROVISION: 'maybe',
          AUTH_JWKS_URL: 'https://idp/keys',
          LOG_LEVEL: 'loud',
        }),
      ),
    ).toEqual([
      'DATABASE_URL must be a postgres:// URL',
      'TENANT_AUTO_PROVISION must be true or false (got "maybe")',
      'DEV_ISSUER_PORT must be a whole number from 0 to 65535 (got "70000")',
      'AUTH_ISSUER must be set when AUTH_JWKS_URL is set (e.g. https://login.microsoftonline.com/{tid}/v2.0)',
      'LOG_LEVEL must be one of debug, info, warn, error, silent (got "loud")',
    ]);
  });

  it('names each bad operator tenant and a bad NODE_ENV', () => {
    expect(
      problems(() => loadConfig({ OPERATOR_TENANT_IDS: 'acme, 72F988BF-86F1-41AF-91AB-2D7CD011DB47' })),
    ).toEqual(['OPERATOR_TENANT_IDS must be comma-separated tenant GUIDs (got "acme")']);
    expect(problems(() => loadConfig({ NODE_ENV: 'prod' }))).toEqual([
      'NODE_ENV must be one of development, production, test (got "prod")',
    ]);
  });

  it('turns introspection off and logs JSON in production unless asked otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({
      introspection: false,
      log: { format: 'json' },
    });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
  });

  it('treats blank variables as unset and trims values', () => {
    expect(loadConfig({ DATABASE_URL: '  ', HOST: ' 0.0.0.0 ' })).toMatchObject({
      database: { url: undefined },
      host: '0.0.0.0',
    });
  });

  it('uses MIGRATION_DATABASE_URL for migrations and falls back to DATABASE_URL', () => {
    const url = 'postgres://widgetdc_app@db/widgetdc';
    expect(loadConfig({ DATABASE_URL: url }).database.migrationUrl).toBe(url);
    expect(
      loadConfig({ DATABASE_URL: url, MIGRATION_DATABASE_URL: 'postgres://postgres@db/widgetdc' }).database
        .migrationUrl,
    ).toBe('postgres://postgres@db/widgetdc');
  });

  it("gives a module's own schema the same readers and messages", () => {
    const schema = z.object({ THING_PORT: port(4100) });
    expect(parseEnv(schema, {})).toEqual({ THING_PORT: 4100 });
    expect(problems(() => parseEnv(schema, { THING_PORT: 'x' }))).toEqual([
      'THING_PORT must be a whole number from 0 to 65535 (got "x")',
    ]);
  });
});
