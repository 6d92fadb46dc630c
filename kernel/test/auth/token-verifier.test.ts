import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { authOptions } from '#kernel/auth/auth-options.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createTokenVerifier, type TokenVerifier, type TrustedIssuer } from '#kernel/auth/token-verifier.ts';
import { loadConfig } from '#kernel/config.ts';
import { AuthenticationError, UnavailableError } from '#kernel/errors.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';

type SigningKey = Parameters<SignJWT['sign']>[0];
const ACME = devTenantId('acme');
const GLOBEX = devTenantId('globex');
const INITECH = devTenantId('initech');
const CLIENT_ID = '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b';

let issuer: TestIssuer;
let verify: TokenVerifier;
/** The dev issuer's base URL, standing in for https://login.microsoftonline.com. */
let authorityHost: string;
/** A verifier configured for "Entra ID" (tenants acme and globex, API client id) through loadConfig. */
let verifyEntra: TokenVerifier;

interface SignOptions {
  key?: SigningKey;
  alg?: string;
  kid?: string;
  exp?: string | number;
  nbf?: string | number;
}

/** Signs claims with the test issuer's key unless another key or header is given. */
async function sign(claims: Record<string, unknown>, options: SignOptions = {}) {
  const tid = 'tid' in claims ? claims.tid : ACME;
  const jwt = new SignJWT({ tid, oid: randomUUID(), scp: 'access_as_user', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? issuer.keys.kid })
    .setIssuer(String(claims.iss ?? issuer.issuer.issuer.replace('{tid}', String(tid))))
    .setAudience((claims.aud as string) ?? issuer.audience)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '10m');
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? ((await importJWK(issuer.keys.privateJwk, 'RS256')) as SigningKey));
}

/** An Entra-ID-shaped v2 token of `tid` for our API. */
const entraToken = (tid: string, claims: Record<string, unknown> = {}) =>
  sign({ tid, iss: `${authorityHost}/${tid}/v2.0`, aud: CLIENT_ID, ...claims });

beforeAll(async () => {
  issuer = await startTestIssuer();
  verify = createTokenVerifier(issuer.auth);
  authorityHost = new URL(issuer.issuer.jwksUrl).origin;
  verifyEntra = createTokenVerifier(
    authOptions(
      loadConfig({
        AUTH_TENANT_IDS: `${ACME}, ${GLOBEX}`,
        AUTH_CLIENT_ID: CLIENT_ID,
        AUTH_AUTHORITY_HOST: authorityHost,
      }),
    ),
  );
});
afterAll(() => issuer?.close());

describe('token verification', () => {
  it('turns a valid dev token into an identity', async () => {
    const identity = await verify(await issuer.token('acme', 'alice', ['Admin', 'Reader']));
    expect(identity).toMatchObject({
      tenantId: ACME,
      kind: 'user',
      displayName: 'alice@acme.dev.widgetdc',
      roles: ['Admin', 'Reader'],
      scopes: ['access_as_user'],
      tenantSlug: 'acme',
    });
  });

  it('accepts Entra ID v2 tokens of every allowed tenant, with roles, scopes and the calling app', async () => {
    const app = randomUUID();
    for (const tid of [ACME, GLOBEX]) {
      const identity = await verifyEntra(
        await entraToken(tid, { roles: ['Reader'], scp: 'access_as_user User.Read', azp: app }),
      );
      expect(identity).toMatchObject({
        tenantId: tid,
        kind: 'user',
        roles: ['Reader'],
        scopes: ['access_as_user', 'User.Read'],
        clientId: app,
      });
    }
  });

  it('treats a token without scp as a service identity and names its app (azp, else appid)', async () => {
    const app = randomUUID();
    const service = await verifyEntra(
      await entraToken(ACME, { scp: undefined, roles: ['Contributor'], azp: app }),
    );
    expect(service).toMatchObject({ kind: 'service', roles: ['Contributor'], scopes: [], clientId: app });
    const v1Shaped = await verify(await sign({ scp: undefined, appid: app }));
    expect(v1Shaped.clientId).toBe(app);
  });

  it('accepts the dev issuer service tokens as service identities', async () => {
    const identity = await verify(await issuer.serviceToken('ingestion-worker', ACME));
    expect(identity).toMatchObject({ tenantId: ACME, kind: 'service', roles: ['Contributor'], scopes: [] });
    expect(identity.clientId).toMatch(/^[0-9a-f-]{36}$/);
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['an expired token', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 600 }), /has expired/],
    ['a token not valid yet', () => sign({}, { nbf: Math.floor(Date.now() / 1000) + 600 }), /not valid yet/],
    ['another audience', () => sign({ aud: 'api://someone-else' }), /another audience/],
    ['another issuer', () => sign({ iss: 'https://evil.example/v2.0' }), /untrusted issuer/],
    [
      "an issuer of another tenant than the token's tid",
      () => sign({ iss: issuer.issuer.issuer.replace('{tid}', GLOBEX) }),
      /untrusted issuer/,
    ],
    ['a tid that is not a GUID', () => sign({ tid: 'acme' }), /tenant id \(tid claim must be a GUID\)/],
    ['no tid', () => sign({ tid: undefined }), /tenant id \(tid claim must be a GUID\)/],
    ['no oid', () => sign({ oid: undefined }), /oid/],
    [
      'a signature by another key with the same kid',
      async () => sign({}, { key: (await generateKeyPair('RS256')).privateKey }),
      /signature is not valid/,
    ],
    [
      'HS256 signed with the public key',
      async () =>
        sign({}, { alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(issuer.keys.publicJwk)) }),
      /must be signed with RS256 \(got alg "HS256"\)/,
    ],
    [
      'RS384, even by the right key',
      async () =>
        sign({}, { alg: 'RS384', key: (await importJWK(issuer.keys.privateJwk, 'RS384')) as SigningKey }),
      /must be signed with RS256 \(got alg "RS384"\)/,
    ],
    [
      'alg none',
      async () => unsigned({ tid: ACME, oid: randomUUID() }),
      /must be signed with RS256 \(got alg "none"\)/,
    ],
    ['garbage', async () => 'not.a.jwt', /not a well-formed JWT/],
  ];

  it.each(refusals)('refuses %s', async (_, make, message) => {
    const attempt = verify(await make());
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verify(await make())).rejects.toThrow(message);
  });

  const entraRefusals: [string, () => Promise<string>, RegExp][] = [
    [
      'a tenant outside the allow-list',
      () => entraToken(INITECH),
      /tenant .* is not allowed to use this API/,
    ],
    [
      'the api:// App ID URI as audience (v1 style)',
      () => entraToken(ACME, { aud: `api://${CLIENT_ID}` }),
      /another audience/,
    ],
    ['the dev audience', () => entraToken(ACME, { aud: 'api://widgetdc' }), /another audience/],
    [
      'a v1 issuer (sts.windows.net)',
      () => entraToken(ACME, { iss: `https://sts.windows.net/${ACME}/` }),
      /untrusted issuer/,
    ],
    [
      'an expired Entra token',
      () => sign({ tid: ACME, iss: `${authorityHost}/${ACME}/v2.0`, aud: CLIENT_ID }, { exp: 1 }),
      /has expired/,
    ],
  ];

  it.each(entraRefusals)('with Entra ID configured, refuses %s', async (_, make, message) => {
    await expect(verifyEntra(await make())).rejects.toThrow(message);
    await expect(verifyEntra(await make())).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('reports an unreachable identity provider as unavailable (503), not as a bad token', async () => {
    const offline = createTokenVerifier({
      ...issuer.auth,
      issuers: [{ ...issuer.auth.issuers[0]!, jwksUrl: 'http://127.0.0.1:9/keys' }],
    });
    const attempt = offline(await issuer.token('acme'));
    await expect(attempt).rejects.toBeInstanceOf(UnavailableError);
    await expect(attempt).rejects.toMatchObject({ httpStatus: 503, code: 'SERVICE_UNAVAILABLE' });
  });
});

describe('signing keys (JWKS)', () => {
  let server: Server;
  let published: JWK[];
  let fetches: number;
  let failWith: number | undefined;
  let jwksUrl: string;
  const trusted = (overrides: Partial<TrustedIssuer> = {}) =>
    createTokenVerifier({
      issuers: [
        {
          name: 'rotating',
          issuer: 'https://idp.test/{tid}/v2.0',
          jwksUrl,
          audiences: [CLIENT_ID],
          ...overrides,
        },
      ],
      clockToleranceSeconds: 5,
    });

  const newKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  };
  const tokenBy = (key: { kid: string; privateKey: SigningKey }) =>
    sign({ iss: `https://idp.test/${ACME}/v2.0`, aud: CLIENT_ID }, { key: key.privateKey, kid: key.kid });

  beforeAll(async () => {
    server = createServer((_, res) => {
      fetches += 1;
      if (failWith) res.writeHead(failWith).end();
      else
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  });
  beforeEach(() => {
    fetches = 0;
    failWith = undefined;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the key set once and serves later verifications from the cache', async () => {
    const key = await newKey();
    published = [key.publicJwk];
    const check = trusted();
    for (let i = 0; i < 20; i += 1) await check(await tokenBy(key));
    expect(fetches).toBe(1);
  });

  it('on an unknown kid refetches once, then refuses', async () => {
    const known = await newKey();
    published = [known.publicJwk];
    const check = trusted({ jwksCooldownMs: 0 });
    await check(await tokenBy(known));
    expect(fetches).toBe(1);
    const attempt = check(await tokenBy(await newKey()));
    await expect(attempt).rejects.toThrow(/signing key \(kid\) is not published by its issuer/);
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    expect(fetches).toBe(2);
  });

  it('picks up a rotated key on the refetch', async () => {
    const old = await newKey();
    published = [old.publicJwk];
    const check = trusted({ jwksCooldownMs: 0 });
    await check(await tokenBy(old));
    const rotated = await newKey();
    published = [old.publicJwk, rotated.publicJwk];
    await expect(check(await tokenBy(rotated))).resolves.toMatchObject({ tenantId: ACME });
    expect(fetches).toBe(2);
  });

  it('does not refetch again within the cool-down, so unknown kids cannot hammer the provider', async () => {
    const known = await newKey();
    published = [known.publicJwk];
    const check = trusted();
    await check(await tokenBy(known));
    for (let i = 0; i < 5; i += 1) {
      await expect(check(await tokenBy(await newKey()))).rejects.toThrow(/signing key \(kid\)/);
    }
    expect(fetches).toBe(1);
  });

  it('reports a failing JWKS endpoint (HTTP 500) as unavailable', async () => {
    failWith = 500;
    const key = await newKey();
    await expect(trusted()(await tokenBy(key))).rejects.toBeInstanceOf(UnavailableError);
  });
});

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
}
