import { createPublicKey, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import { DEFAULT_AUDIENCE } from '#kernel/config.ts';
import type { TestIssuer } from '#testing/test-identity.ts';

/** One way of forging or breaking a token; `make` builds it from the forge kit. */
export interface Forgery {
  name: string;
  /** `null-or-refused` where the token is genuine but names a tenant that has no data. */
  expect: 'unauthenticated' | 'null-or-refused';
  make(kit: ForgeKit): Promise<string> | string;
}

/** What forgeries are made from: the victim's Admin claims, a valid token's parts, another key. */
export interface ForgeKit {
  issuer: TestIssuer;
  admin: JWTPayload;
  otherJwk: JWK;
  parts: [string, string, string];
  now: number;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The claims the dev issuer would sign for `user` of `slug` (Entra v2 shape). */
export function claimsFor(issuer: TestIssuer, slug: string, user: string, roles: string[]): JWTPayload {
  const tid = devTenantId(slug);
  const now = Math.floor(Date.now() / 1000);
  return {
    tid,
    oid: devUserId(slug, user),
    sub: devUserId(slug, user),
    roles,
    scp: 'access_as_user',
    preferred_username: `${user}@${slug}.dev.widgetdc`,
    name: user,
    ver: '2.0',
    wtdc_tenant: slug,
    iss: issuer.issuer.issuer.replaceAll('{tid}', tid),
    aud: DEFAULT_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
  };
}

/** Signs `claims` with the issuer's real key (or `privateJwk`), RS256, the issuer's kid unless overridden. */
export async function signRs256(
  issuer: TestIssuer,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
  privateJwk = issuer.keys.privateJwk,
): Promise<string> {
  const key = await importJWK(privateJwk, 'RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: issuer.keys.kid, typ: 'JWT', ...header })
    .sign(key);
}

/** The forge kit for tokens claiming `victimSlug` as Admin. */
export async function forgeKit(issuer: TestIssuer, victimSlug: string): Promise<ForgeKit> {
  const admin = claimsFor(issuer, victimSlug, 'mallory', ['Admin']);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const valid = await signRs256(issuer, admin);
  return {
    issuer,
    admin,
    otherJwk: await exportJWK(privateKey),
    parts: valid.split('.') as [string, string, string],
    now: Math.floor(Date.now() / 1000),
  };
}

const hs256 = (k: ForgeKit, secret: Uint8Array) =>
  new SignJWT(k.admin).setProtectedHeader({ alg: 'HS256', kid: k.issuer.keys.kid, typ: 'JWT' }).sign(secret);
const unsigned = (k: ForgeKit, alg: string) => `${b64({ alg, typ: 'JWT' })}.${k.parts[1]}.`;
const without = (k: ForgeKit, claim: string) => {
  const copy = { ...k.admin };
  delete copy[claim];
  return signRs256(k.issuer, copy);
};
const claims = (k: ForgeKit, extra: JWTPayload) => signRs256(k.issuer, { ...k.admin, ...extra });
const pem = (k: ForgeKit) =>
  createPublicKey({ key: k.issuer.keys.publicJwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
const bad = (name: string, make: Forgery['make']): Forgery => ({ name, expect: 'unauthenticated', make });

/** Every forged or invalid token the verifier must refuse (each claims the victim tenant as Admin). */
export const FORGERIES: Forgery[] = [
  bad('signed with another RSA key under the real kid', (k) => signRs256(k.issuer, k.admin, {}, k.otherJwk)),
  bad('signed with another RSA key under a new kid', (k) =>
    signRs256(k.issuer, k.admin, { kid: randomUUID() }, k.otherJwk),
  ),
  bad('jku header pointing at an attacker JWKS', (k) =>
    signRs256(k.issuer, k.admin, { jku: 'http://127.0.0.1:1/keys' }, k.otherJwk),
  ),
  bad('embedded jwk header with the attacker key', (k) =>
    signRs256(k.issuer, k.admin, { jwk: { kty: 'RSA', n: k.otherJwk.n, e: k.otherJwk.e } }, k.otherJwk),
  ),
  bad(
    'payload tampered after signing (roles)',
    (k) => `${k.parts[0]}.${b64({ ...k.admin, roles: ['Admin', 'Auditor'] })}.${k.parts[2]}`,
  ),
  bad(
    'payload tampered after signing (tid)',
    (k) => `${k.parts[0]}.${b64({ ...k.admin, tid: devTenantId('attacker-corp') })}.${k.parts[2]}`,
  ),
  bad('signature stripped', (k) => `${k.parts[0]}.${k.parts[1]}.`),
  bad('signature of another token', async (k) => {
    const other = await claims(k, { jti: randomUUID(), name: 'other' });
    return `${k.parts[0]}.${k.parts[1]}.${other.split('.')[2]}`;
  }),
  bad('alg none', (k) => unsigned(k, 'none')),
  bad('alg None', (k) => unsigned(k, 'None')),
  bad(
    'alg NONE keeping the signature',
    (k) => `${b64({ alg: 'NONE', typ: 'JWT' })}.${k.parts[1]}.${k.parts[2]}`,
  ),
  bad('HS256 keyed with the public JWK (JSON bytes)', (k) =>
    hs256(k, new TextEncoder().encode(JSON.stringify(k.issuer.keys.publicJwk))),
  ),
  bad('HS256 keyed with the public key PEM', (k) => hs256(k, new TextEncoder().encode(pem(k)))),
  bad('HS256 keyed with the modulus bytes', (k) =>
    hs256(k, Buffer.from(k.issuer.keys.publicJwk.n ?? '', 'base64url')),
  ),
  bad(
    'RS512 header on an RS256 signature',
    (k) => `${b64({ alg: 'RS512', kid: k.issuer.keys.kid })}.${k.parts[1]}.${k.parts[2]}`,
  ),
  bad('expired an hour ago', (k) => claims(k, { iat: k.now - 7200, nbf: k.now - 7200, exp: k.now - 3600 })),
  bad('not valid for another hour', (k) => claims(k, { nbf: k.now + 3600, exp: k.now + 7200 })),
  bad('wrong aud', (k) => claims(k, { aud: 'api://someone-else' })),
  bad('aud list without ours', (k) => claims(k, { aud: ['api://a', 'api://b'] })),
  bad('wrong iss (other host)', (k) => claims(k, { iss: `https://evil.example/${k.admin.tid}/v2.0` })),
  bad('iss naming another tenant than tid', (k) =>
    claims(k, { iss: k.issuer.issuer.issuer.replaceAll('{tid}', devTenantId('attacker-corp')) }),
  ),
  bad('missing tid', (k) => without(k, 'tid')),
  bad('non-GUID tid', (k) => claims(k, { tid: 'victim-corp' })),
  bad('SQL in tid', (k) => claims(k, { tid: "' or 1=1 --" })),
  bad('tid as a list', (k) => claims(k, { tid: [k.admin.tid] })),
  bad('missing oid', (k) => without(k, 'oid')),
  bad('missing exp', (k) => without(k, 'exp')),
  bad('not a JWT at all', () => 'not-a-jwt'),
  {
    name: 'tid of an unregistered tenant',
    expect: 'null-or-refused',
    make: (k) =>
      signRs256(
        k.issuer,
        claimsFor(k.issuer, `unregistered-${randomUUID().slice(0, 8)}`, 'mallory', ['Admin']),
      ),
  },
];
