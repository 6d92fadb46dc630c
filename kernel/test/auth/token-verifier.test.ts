import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT } from 'jose';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createTokenVerifier, type TokenVerifier } from '#kernel/auth/token-verifier.ts';
import { AuthenticationError, UnavailableError } from '#kernel/errors.ts';
import { startTestIssuer, type TestIssuer } from '#kernel/testing/test-identity.ts';

type SigningKey = Parameters<SignJWT['sign']>[0];
let issuer: TestIssuer;
let verify: TokenVerifier;

/** Signs claims with the test issuer's key unless another key or header is given. */
async function sign(
  claims: Record<string, unknown>,
  options: {
    key?: SigningKey;
    alg?: string;
    kid?: string;
    exp?: string | number;
    nbf?: string | number;
  } = {},
) {
  const tid = devTenantId('acme');
  const jwt = new SignJWT({ tid, oid: randomUUID(), scp: 'access_as_user', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? issuer.keys.kid })
    .setIssuer(String(claims.iss ?? issuer.auth.issuer.replace('{tid}', String(claims.tid ?? tid))))
    .setAudience(String(claims.aud ?? issuer.auth.audience))
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '10m');
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? ((await importJWK(issuer.keys.privateJwk, 'RS256')) as SigningKey));
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  verify = createTokenVerifier(issuer.auth);
});
afterAll(() => issuer?.close());

describe('token verification', () => {
  it('turns a valid dev token into an identity', async () => {
    const identity = await verify(await issuer.token('acme', 'alice', ['Admin', 'Reader']));
    expect(identity).toMatchObject({
      tenantId: devTenantId('acme'),
      kind: 'user',
      displayName: 'alice@acme.dev.widgetdc',
      roles: ['Admin', 'Reader'],
      scopes: ['access_as_user'],
      tenantSlug: 'acme',
    });
  });

  it('treats a token without scp as a service identity', async () => {
    const identity = await verify(await sign({ scp: undefined, roles: ['Contributor'] }));
    expect(identity.kind).toBe('service');
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['an expired token', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 600 }), /expired/],
    ['a token not valid yet', () => sign({}, { nbf: Math.floor(Date.now() / 1000) + 600 }), /not valid yet/],
    ['another audience', () => sign({ aud: 'api://someone-else' }), /another audience/],
    ['another issuer', () => sign({ iss: 'https://evil.example/v2.0' }), /untrusted issuer/],
    ['a tid that is not a GUID', () => sign({ tid: 'acme' }), /tenant id/],
    ['no tid', () => sign({ tid: undefined }), /tenant id/],
    ['no oid', () => sign({ oid: undefined }), /oid/],
    [
      'a signature by another key',
      async () => sign({}, { key: (await generateKeyPair('RS256')).privateKey }),
      /signature is not valid/,
    ],
    [
      'HS256 signed with the public key',
      async () =>
        sign({}, { alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(issuer.keys.publicJwk)) }),
      /must be signed with RS256/,
    ],
    [
      'alg none',
      async () => unsigned({ tid: devTenantId('acme'), oid: randomUUID() }),
      /must be signed with RS256|not valid/,
    ],
    ['garbage', async () => 'not.a.jwt', /not a well-formed JWT/],
  ];

  it.each(refusals)('refuses %s', async (_, make, message) => {
    const attempt = verify(await make());
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verify(await make())).rejects.toThrow(message);
  });

  it('reports an unreachable identity provider as unavailable, not as a bad token', async () => {
    const offline = createTokenVerifier({ ...issuer.auth, jwksUrl: 'http://127.0.0.1:9/keys' });
    await expect(offline(await issuer.token('acme'))).rejects.toBeInstanceOf(UnavailableError);
  });
});

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
}
