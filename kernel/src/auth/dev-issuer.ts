import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { ValidationError } from '../errors.ts';
import { devTenantId, devUserId } from './dev-ids.ts';

/** Default lifetime of a dev token. */
export const DEV_TOKEN_TTL_SECONDS = 3600;
/** Path of the JWKS, shaped like Entra ID's `/discovery/v2.0/keys`. */
export const DEV_JWKS_PATH = '/discovery/v2.0/keys';

/** The dev issuer's signing key pair, kept in the data folder so tokens survive restarts. */
export interface DevKeys {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Where a running dev issuer is reached. */
export interface DevIssuerEndpoints {
  /** Issuer template, `{tid}` replaced per token, as Entra ID's v2 issuers. */
  issuer: string;
  jwksUrl: string;
}

/** The endpoints of a dev issuer listening on `host:port`. */
export function devIssuerEndpoints(host: string, port: number): DevIssuerEndpoints {
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { issuer: `${base}/{tid}/v2.0`, jwksUrl: `${base}${DEV_JWKS_PATH}` };
}

/** Loads the dev key pair from `dataDir`, creating it on first use (file mode 0600). */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeys> {
  const dir = join(dataDir, 'dev-issuer');
  const file = join(dir, 'keys.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DevKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const keys: DevKeys = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(keys), { mode: 0o600 });
  await rename(tmp, file);
  return JSON.parse(await readFile(file, 'utf8')) as DevKeys;
}

/** What a dev token asserts. */
export interface DevTokenRequest {
  tenant: string;
  user: string;
  roles: string[];
  audience: string;
  issuer: string;
  ttlSeconds?: number;
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Signs an Entra-shaped delegated access token (`tid`, `oid`, `roles`, `scp`, `preferred_username`). */
export async function signDevToken(keys: DevKeys, request: DevTokenRequest): Promise<string> {
  if (!SLUG.test(request.tenant)) {
    throw new ValidationError('--tenant must be a slug: lower-case letters, digits and dashes (e.g. acme)');
  }
  if (!USER.test(request.user))
    throw new ValidationError('--user must be a simple name (letters, digits, . _ -)');
  const tid = devTenantId(request.tenant);
  const key = await importJWK(keys.privateJwk, 'RS256');
  return new SignJWT({
    tid,
    oid: devUserId(request.tenant, request.user),
    roles: request.roles,
    scp: 'access_as_user',
    preferred_username: `${request.user}@${request.tenant}.dev.widgetdc`,
    name: request.user,
    ver: '2.0',
    wtdc_tenant: request.tenant,
  })
    .setProtectedHeader({ alg: 'RS256', kid: keys.kid, typ: 'JWT' })
    .setIssuer(request.issuer.replaceAll('{tid}', tid))
    .setAudience(request.audience)
    .setSubject(devUserId(request.tenant, request.user))
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime(`${request.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS}s`)
    .setJti(randomUUID())
    .sign(key);
}

/** A running dev issuer. */
export interface DevIssuer extends DevIssuerEndpoints {
  port: number;
  close(): Promise<void>;
}

/** Serves the dev issuer's public keys, as an identity provider's JWKS endpoint does. */
export async function startDevIssuer(
  keys: DevKeys,
  options: { host: string; port: number },
): Promise<DevIssuer> {
  const jwks = JSON.stringify({ keys: [keys.publicJwk] });
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === DEV_JWKS_PATH) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(jwks);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    ...devIssuerEndpoints(options.host, port),
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
