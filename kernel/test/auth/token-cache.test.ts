// The verified-token cache: unit behaviour (LRU, exp, key ring), and the verifier with a warm cache
// still refusing forged, expired and revoked-key tokens (tokens from the repo's test issuer).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Identity } from '#kernel/auth/identity.ts';
import {
  DEFAULT_TOKEN_CACHE_SIZE,
  type KeyRing,
  loadTokenCacheSize,
  TokenCache,
} from '#kernel/auth/token-cache.ts';
import { createTokenVerifier, type TokenVerifierOptions } from '#kernel/auth/token-verifier.ts';
import { AuthenticationError, ConfigError } from '#kernel/errors.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';

const identity = (subjectId: string): Identity => ({
  tenantId: 't',
  subjectId,
  kind: 'user',
  displayName: subjectId,
  roles: ['Reader'],
  scopes: [],
});

describe('TokenCache', () => {
  const ring = (kids: string[], fresh = true): KeyRing => ({ fresh, has: (kid) => kids.includes(kid) });
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000_000_000;
  });
  const exp = () => now / 1000 + 60;

  it('remembers a verified token and answers a copy of its identity', () => {
    const cache = new TokenCache(10, clock);
    cache.set('token-a', { identity: identity('a'), exp: exp(), kid: 'k1', keys: ring(['k1']) });
    const first = cache.get('token-a');
    expect(first).toEqual(identity('a'));
    (first as { displayName: string }).displayName = 'changed';
    expect(cache.get('token-a')?.displayName).toBe('a');
    expect(cache.get('token-b')).toBeUndefined();
  });

  it('never answers at or past the token exp, and forgets it then', () => {
    const cache = new TokenCache(10, clock);
    cache.set('token-a', { identity: identity('a'), exp: now / 1000 + 5, kid: 'k1', keys: ring(['k1']) });
    now += 4_999;
    expect(cache.get('token-a')).toBeDefined();
    now += 1;
    expect(cache.get('token-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops a token whose signing key left the key set', () => {
    const kids = ['k1'];
    const cache = new TokenCache(10, clock);
    cache.set('token-a', { identity: identity('a'), exp: exp(), kid: 'k1', keys: ring(kids) });
    expect(cache.get('token-a')).toBeDefined();
    kids.pop();
    expect(cache.get('token-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not answer while the key set is stale, so a full verification refetches it', () => {
    const keys = { fresh: true, has: () => true };
    const cache = new TokenCache(10, clock);
    cache.set('token-a', { identity: identity('a'), exp: exp(), kid: 'k1', keys });
    keys.fresh = false;
    expect(cache.get('token-a')).toBeUndefined();
    keys.fresh = true;
    expect(cache.get('token-a')).toBeDefined();
  });

  it('is bounded: the least recently used token goes first', () => {
    const cache = new TokenCache(2, clock);
    const entry = (s: string) => ({ identity: identity(s), exp: exp(), kid: 'k1', keys: ring(['k1']) });
    cache.set('a', entry('a'));
    cache.set('b', entry('b'));
    cache.get('a'); // a is now the most recently used
    cache.set('c', entry('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.subjectId).toBe('a');
    expect(cache.get('c')?.subjectId).toBe('c');
  });

  it('with size 0 remembers nothing', () => {
    const cache = new TokenCache(0, clock);
    cache.set('a', { identity: identity('a'), exp: exp(), kid: 'k1', keys: ring(['k1']) });
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('reads TOKEN_CACHE_SIZE, naming a bad value', () => {
    expect(loadTokenCacheSize({})).toBe(DEFAULT_TOKEN_CACHE_SIZE);
    expect(loadTokenCacheSize({ TOKEN_CACHE_SIZE: '0' })).toBe(0);
    expect(loadTokenCacheSize({ TOKEN_CACHE_SIZE: ' 500 ' })).toBe(500);
    expect(() => loadTokenCacheSize({ TOKEN_CACHE_SIZE: 'lots' })).toThrow(ConfigError);
    expect(() => loadTokenCacheSize({ TOKEN_CACHE_SIZE: '-1' })).toThrow(
      /TOKEN_CACHE_SIZE must be at least 0/,
    );
  });
});

describe('token verifier with a warm cache', () => {
  let issuer: TestIssuer;
  let server: Server;
  /** Keys the JWKS endpoint publishes now: the test issuer's key, until a test revokes it. */
  let published: JWK[];
  let jwksUrl: string;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** A verifier trusting the test issuer, its keys read from this file's JWKS endpoint. */
  const verifier = (
    overrides: Partial<TokenVerifierOptions['issuers'][number]> = {},
    clockToleranceSeconds = 5,
  ) =>
    createTokenVerifier({
      ...issuer.auth,
      clockToleranceSeconds,
      tokenCacheSize: 100,
      issuers: [{ ...issuer.auth.issuers[0]!, jwksUrl, ...overrides }],
    });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    server = createServer((_, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  });
  beforeEach(() => {
    published = [issuer.keys.publicJwk];
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await issuer?.close();
  });

  it('refuses forged variants of a token it has just accepted', async () => {
    const verify = verifier();
    const token = await issuer.token('acme', 'alice', ['Reader']);
    await verify(token);
    await verify(token); // warm
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // The same claims with the roles raised, under the original signature.
    const claims = { ...decodeJwt(token), roles: ['Admin'] };
    const raised = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    // The original header and claims with a flipped signature byte.
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    const flipped = `${header}.${payload}.${bytes.toString('base64url')}`;
    // The same claims signed by another key under the issuer's kid.
    const other = await new SignJWT(decodeJwt(token))
      .setProtectedHeader({ alg: 'RS256', kid: issuer.keys.kid, typ: 'JWT' })
      .sign((await generateKeyPair('RS256')).privateKey);
    for (const forged of [raised, flipped, other]) {
      const attempt = verify(forged);
      await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
      await expect(attempt).rejects.toThrow(/signature is not valid/);
    }
    await expect(verify(token)).resolves.toMatchObject({ roles: ['Reader'] });
  });

  it('refuses a token it accepted once its exp has passed', async () => {
    const verify = verifier({}, 0);
    // Three seconds of life: exp is whole seconds, and a loaded machine must still verify it in time.
    const token = await issuer.token('acme', 'alice', ['Reader'], 3);
    await expect(verify(token)).resolves.toMatchObject({ roles: ['Reader'] });
    const { exp } = decodeJwt(token);
    await sleep(exp! * 1000 - Date.now() + 100);
    const attempt = verify(token);
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(attempt).rejects.toThrow('The access token has expired');
  });

  it('refuses a cached token once its signing key is no longer published (refetched at max age)', async () => {
    const verify = verifier({ jwksCacheMaxAgeMs: 200, jwksCooldownMs: 0 });
    const token = await issuer.token('acme');
    await verify(token);
    await verify(token); // warm
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    published = [{ ...(await exportJWK(publicKey)), kid: 'rotated', alg: 'RS256', use: 'sig' }];
    await sleep(250);
    const attempt = verify(token);
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(attempt).rejects.toThrow(/signing key \(kid\) is not published/);
  });

  it('refuses a cached token as soon as a refetch (another token, unknown kid) drops its key', async () => {
    const verify = verifier({ jwksCooldownMs: 0 });
    const token = await issuer.token('acme');
    await verify(token); // warm; the key set stays fresh for minutes
    const rotated = await generateKeyPair('RS256', { extractable: true });
    published = [{ ...(await exportJWK(rotated.publicKey)), kid: 'rotated', alg: 'RS256', use: 'sig' }];
    const byRotated = await new SignJWT(decodeJwt(await issuer.token('acme', 'bob')))
      .setProtectedHeader({ alg: 'RS256', kid: 'rotated', typ: 'JWT' })
      .sign(rotated.privateKey);
    await expect(verify(byRotated)).resolves.toMatchObject({ displayName: 'bob@acme.dev.widgetdc' });
    const attempt = verify(token);
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(attempt).rejects.toThrow(/signing key \(kid\) is not published/);
  });

  it('keeps accepting the key once it is published again', async () => {
    const verify = verifier({ jwksCacheMaxAgeMs: 200, jwksCooldownMs: 0 });
    const token = await issuer.token('acme');
    await verify(token);
    published = [];
    await sleep(250);
    await expect(verify(token)).rejects.toThrow(/signing key \(kid\)/);
    published = [issuer.keys.publicJwk];
    await sleep(250);
    await expect(verify(token)).resolves.toMatchObject({ tenantSlug: 'acme' });
  });
});
