import { randomUUID } from 'node:crypto';
import { jwksFetchTrusting, msalNetworkClientTrusting } from '#kernel/auth/https-client.ts';
import {
  createDevServiceTokenProvider,
  createMsalServiceTokenProvider,
  ServiceTokenError,
} from '#kernel/auth/service-identity.ts';
import { createTokenVerifier, type TokenVerifier } from '#kernel/auth/token-verifier.ts';
import { AuthenticationError } from '#kernel/errors.ts';
import { startTestOidcProvider, type TestOidcProvider } from '#testing/oidc-provider.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';

const API_CLIENT_ID = randomUUID();
const OTHER_API_CLIENT_ID = randomUUID();
const TENANT = randomUUID();
const worker = {
  clientId: randomUUID(),
  clientSecret: randomUUID(),
  tenantId: TENANT,
  objectId: randomUUID(),
  roles: ['Contributor'],
};

let provider: TestOidcProvider;
let verify: TokenVerifier;

/** msal-node in OIDC protocol mode against the local provider, trusting its certificate only. */
function msalProvider(overrides: { clientSecret?: string; scope?: string } = {}) {
  const networkClient = msalNetworkClientTrusting(provider.ca);
  const tokens = createMsalServiceTokenProvider({
    service: 'ingestion-worker',
    clientId: worker.clientId,
    credential: { clientSecret: overrides.clientSecret ?? worker.clientSecret },
    authority: provider.issuer,
    knownAuthorities: [provider.host],
    protocolMode: 'OIDC',
    scope: overrides.scope ?? `api://${API_CLIENT_ID}/.default`,
    networkClient,
  });
  return { tokens, networkClient };
}

beforeAll(async () => {
  provider = await startTestOidcProvider({
    clients: [worker],
    resources: {
      [`api://${API_CLIENT_ID}`]: API_CLIENT_ID,
      [`api://${OTHER_API_CLIENT_ID}`]: OTHER_API_CLIENT_ID,
    },
  });
  verify = createTokenVerifier({
    issuers: [
      {
        name: 'test-oidc',
        issuer: provider.issuer,
        jwksUrl: provider.jwksUrl,
        audiences: [API_CLIENT_ID],
        fetch: jwksFetchTrusting(provider.ca),
      },
    ],
    clockToleranceSeconds: 5,
  });
});
afterAll(() => provider?.close());

describe('service identities through a real OpenID provider (msal-node, client credentials)', () => {
  it('obtains a token the platform verifies as the service itself', async () => {
    const { tokens } = msalProvider();
    const identity = await verify(await tokens.getToken());
    expect(identity).toEqual({
      tenantId: TENANT,
      subjectId: worker.objectId,
      kind: 'service',
      displayName: worker.objectId,
      roles: ['Contributor'],
      scopes: [],
      clientId: worker.clientId,
    });
  });

  it('caches the token until shortly before it expires', async () => {
    const { tokens } = msalProvider();
    const before = provider.issued;
    const [a, b] = await Promise.all([tokens.getToken(), tokens.getToken()]);
    const c = await tokens.getToken();
    expect(new Set([a, b, c]).size).toBe(1);
    expect(provider.issued - before).toBe(1);
  });

  it('is refused by the provider with a wrong client secret', async () => {
    const { tokens } = msalProvider({ clientSecret: 'not-the-secret' });
    const attempt = tokens.getToken();
    await expect(attempt).rejects.toBeInstanceOf(ServiceTokenError);
    await expect(attempt).rejects.toThrow(/invalid_client/);
  });

  it('gets a token for another resource, which our verifier refuses', async () => {
    const { tokens } = msalProvider({ scope: `api://${OTHER_API_CLIENT_ID}/.default` });
    const token = await tokens.getToken();
    const attempt = verify(token);
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(attempt).rejects.toThrow(/another audience/);
  });

  it('does not trust the self-signed provider without its certificate (TLS stays verified)', async () => {
    const strict = createTokenVerifier({
      issuers: [
        { name: 'strict', issuer: provider.issuer, jwksUrl: provider.jwksUrl, audiences: [API_CLIENT_ID] },
      ],
      clockToleranceSeconds: 5,
    });
    const { tokens } = msalProvider();
    await expect(strict(await tokens.getToken())).rejects.toThrow(/signing keys cannot be fetched/);
  });
});

describe('service identities in embedded mode (dev issuer)', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(() => issuer?.close());

  it('mints app-only tokens the platform verifies as a service, renewing before expiry', async () => {
    const tokens = createDevServiceTokenProvider({
      service: 'agent-runner',
      keys: issuer.keys,
      issuer: issuer.issuer.issuer,
      audience: issuer.audience,
      defaultTenantId: TENANT,
    });
    const check = createTokenVerifier(issuer.auth);
    const identity = await check(await tokens.getToken());
    expect(identity).toMatchObject({ tenantId: TENANT, kind: 'service', roles: ['Contributor'], scopes: [] });
    expect(await tokens.getToken()).toBe(await tokens.getToken());
    const other = await check(await tokens.getToken(randomUUID()));
    expect(other.subjectId).toBe(identity.subjectId);
    expect(other.tenantId).not.toBe(TENANT);

    const shortLived = createDevServiceTokenProvider({
      service: 'agent-runner',
      keys: issuer.keys,
      issuer: issuer.issuer.issuer,
      audience: issuer.audience,
      defaultTenantId: TENANT,
      ttlSeconds: 0,
    });
    // A token already at its renewal point is never handed out twice.
    expect(await shortLived.getToken()).not.toBe(await shortLived.getToken());
  });

  it('needs a tenant to act in', async () => {
    const tokens = createDevServiceTokenProvider({
      service: 'agent-runner',
      keys: issuer.keys,
      issuer: issuer.issuer.issuer,
      audience: issuer.audience,
    });
    await expect(tokens.getToken()).rejects.toThrow(/needs a tenant id/);
  });
});
