import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authOptions } from '#kernel/auth/auth-options.ts';
import { assertDevIssuerAllowed, loadOrCreateDevKeys, startDevIssuer } from '#kernel/auth/dev-issuer.ts';
import { serviceTokenProvider } from '#kernel/auth/service-identity.ts';
import { loadConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b';

/** The problems loadConfig reports for `env`. */
function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('Entra ID configuration', () => {
  it('single tenant: issuer per tenant, shared JWKS, aud = the client id, allow-list of one', () => {
    const options = authOptions(
      loadConfig({ AUTH_TENANT_IDS: TENANT.toUpperCase(), AUTH_CLIENT_ID: CLIENT }),
    );
    expect(options.issuers).toEqual([
      {
        name: 'entra',
        issuer: 'https://login.microsoftonline.com/{tid}/v2.0',
        jwksUrl: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
        audiences: [CLIENT],
        tenantIds: [TENANT],
      },
    ]);
    expect(options.clockToleranceSeconds).toBe(60);
  });

  it('multi-tenant: every listed tenant, plus an extra trusted issuer with its own JWKS and audience', () => {
    const other = '0b3c5d7e-1f2a-4b4c-8d6e-7f8091a2b3c4';
    const options = authOptions(
      loadConfig({
        AUTH_TENANT_IDS: `${TENANT}, ${other}`,
        AUTH_CLIENT_ID: CLIENT,
        AUTH_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
        AUTH_ISSUER: 'http://127.0.0.1:4010/{tid}/v2.0',
        AUTH_JWKS_URL: 'http://127.0.0.1:4010/discovery/v2.0/keys',
      }),
    );
    expect(options.issuers.map((i) => [i.name, i.issuer, i.audiences, i.tenantIds])).toEqual([
      ['entra', 'https://login.microsoftonline.us/{tid}/v2.0', [CLIENT], [TENANT, other]],
      ['extra', 'http://127.0.0.1:4010/{tid}/v2.0', ['api://widgetdc'], undefined],
    ]);
  });

  it.each([
    [{ AUTH_CLIENT_ID: CLIENT }, /AUTH_TENANT_IDS must list the Entra ID tenant id\(s\)/],
    [{ AUTH_TENANT_IDS: TENANT }, /AUTH_CLIENT_ID must be set when AUTH_TENANT_IDS is set/],
    [{ AUTH_TENANT_IDS: 'common', AUTH_CLIENT_ID: CLIENT }, /comma-separated tenant GUIDs \(got "common"/],
    [
      { AUTH_TENANT_IDS: TENANT, AUTH_CLIENT_ID: 'api://widgetdc' },
      /AUTH_CLIENT_ID must be .* a GUID \(got "api:\/\/widgetdc"\)/,
    ],
    [
      { AUTH_TENANT_IDS: TENANT, AUTH_CLIENT_ID: CLIENT, AUTH_AUTHORITY_HOST: 'login' },
      /AUTH_AUTHORITY_HOST must be an http/,
    ],
    [
      {
        NODE_ENV: 'production',
        AUTH_TENANT_IDS: TENANT,
        AUTH_CLIENT_ID: CLIENT,
        AUTH_AUTHORITY_HOST: 'http://idp',
      },
      /AUTH_AUTHORITY_HOST must be an https:\/\/ URL when NODE_ENV=production/,
    ],
    [{ AUTH_SERVICE_CLIENT_SECRET: 's' }, /AUTH_SERVICE_CLIENT_ID must be set/],
    [{ AUTH_SERVICE_CLIENT_ID: CLIENT, AUTH_SERVICE_CLIENT_SECRET: 's' }, /needs Entra ID configured/],
    [
      { AUTH_TENANT_IDS: TENANT, AUTH_CLIENT_ID: CLIENT, AUTH_SERVICE_CLIENT_ID: CLIENT },
      /exactly one of AUTH_SERVICE_CLIENT_SECRET and AUTH_SERVICE_CERTIFICATE_FILE/,
    ],
  ])('refuses %j with a precise message', (env, message) => {
    expect(problems(env).join('\n')).toMatch(message);
  });

  it('derives the service scope and tenant from the API registration', () => {
    const config = loadConfig({
      AUTH_TENANT_IDS: TENANT,
      AUTH_CLIENT_ID: CLIENT,
      AUTH_SERVICE_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
      AUTH_SERVICE_CLIENT_SECRET: 'secret',
    });
    expect(config.auth.service).toMatchObject({ tenantId: TENANT, scope: `${CLIENT}/.default` });
  });

  it('refuses to start with no identity provider at all', () => {
    expect(() => authOptions(loadConfig({}))).toThrow(/No identity provider is configured/);
  });
});

describe('the embedded dev issuer in production', () => {
  it('refuses to run under NODE_ENV=production unless explicitly allowed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wtdc-devguard-'));
    const keys = await loadOrCreateDevKeys(dir);
    const start = (allowInProduction: boolean) =>
      startDevIssuer(keys, { host: '127.0.0.1', port: 0, nodeEnv: 'production', allowInProduction });
    await expect(start(false)).rejects.toThrow(/does not run with NODE_ENV=production/);
    const allowed = await start(true);
    await allowed.close();
    await rm(dir, { recursive: true, force: true });
    expect(() => assertDevIssuerAllowed({ nodeEnv: 'development', allowInProduction: false })).not.toThrow();
  });

  it('will not mint service tokens under NODE_ENV=production', async () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      AUTH_ISSUER: 'http://127.0.0.1:4010/{tid}/v2.0',
      AUTH_JWKS_URL: 'http://127.0.0.1:4010/discovery/v2.0/keys',
    });
    await expect(serviceTokenProvider(config, 'worker')).rejects.toThrow(/ALLOW_DEV_ISSUER_IN_PRODUCTION/);
  });

  it('asks for the worker app registration when Entra ID is configured without one', async () => {
    const config = loadConfig({ AUTH_TENANT_IDS: TENANT, AUTH_CLIENT_ID: CLIENT });
    await expect(serviceTokenProvider(config, 'worker')).rejects.toThrow(/set AUTH_SERVICE_CLIENT_ID/);
  });
});
