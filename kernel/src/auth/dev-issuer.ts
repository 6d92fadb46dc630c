import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { ConfigError, ValidationError } from '../errors.ts';
import { isName, isUuid, NAME_RULE } from '../ids.ts';
import { devTenantId, devUserId, uuidV5 } from './dev-ids.ts';

/** Default lifetime of a dev token. */
export const DEV_TOKEN_TTL_SECONDS = 3600;
/** Path of the JWKS, shaped like Entra ID's `/discovery/v2.0/keys`. */
export const DEV_JWKS_PATH = '/discovery/v2.0/keys';
/** Paths the JWKS is served on: also Entra ID's `/common/…`, so AUTH_AUTHORITY_HOST may point at a dev issuer. */
const JWKS_PATHS = new Set([DEV_JWKS_PATH, `/common${DEV_JWKS_PATH}`]);
/** Path where the dev issuer mints a token (`POST {tenant, user, roles}`), for the console's dev sign-in. */
export const DEV_TOKEN_PATH = '/token';
/** Largest token request body the dev issuer reads. */
const MAX_TOKEN_REQUEST_BYTES = 4096;

/** Whether this process may run or use the dev issuer. */
export interface DevIssuerGuard {
  nodeEnv: 'development' | 'production' | 'test';
  /** ALLOW_DEV_ISSUER_IN_PRODUCTION. */
  allowInProduction: boolean;
}

/** Refuses the dev issuer under NODE_ENV=production unless ALLOW_DEV_ISSUER_IN_PRODUCTION=true. */
export function assertDevIssuerAllowed(guard: DevIssuerGuard): void {
  if (guard.nodeEnv === 'production' && !guard.allowInProduction) {
    throw new ConfigError([
      'The embedded dev issuer does not run with NODE_ENV=production: configure Entra ID (AUTH_TENANT_IDS, AUTH_CLIENT_ID) ' +
        'or another issuer (AUTH_ISSUER, AUTH_JWKS_URL), or set ALLOW_DEV_ISSUER_IN_PRODUCTION=true to accept dev tokens knowingly',
    ]);
  }
}

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

const USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Signs an Entra-shaped delegated access token (`tid`, `oid`, `roles`, `scp`, `preferred_username`). */
export async function signDevToken(keys: DevKeys, request: DevTokenRequest): Promise<string> {
  if (!isName(request.tenant)) {
    throw new ValidationError(`--tenant must be a slug: ${NAME_RULE} (e.g. acme)`);
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

/** What a dev app-only (service) token asserts. */
export interface DevServiceTokenRequest {
  /** The service's name, e.g. `ingestion-worker`; its ids derive from it. */
  service: string;
  /** Tenant (GUID) the service acts in. */
  tenantId: string;
  roles: string[];
  audience: string;
  issuer: string;
  ttlSeconds?: number;
}

/** The dev issuer's service-principal object id of a service name. */
export const devServiceId = (service: string) => uuidV5(`service:${service}`);
/** The dev issuer's application (client) id of a service name. */
export const devServiceClientId = (service: string) => uuidV5(`app:${service}`);

/** Signs an Entra-shaped app-only access token: no `scp`, app roles, `oid` = the service's id, `azp` = its app. */
export async function signDevServiceToken(keys: DevKeys, request: DevServiceTokenRequest): Promise<string> {
  if (!USER.test(request.service)) {
    throw new ValidationError('service name must be a simple name (letters, digits, . _ -)');
  }
  if (!isUuid(request.tenantId) || request.tenantId !== request.tenantId.toLowerCase()) {
    throw new ValidationError(`tenant id must be a lower-case GUID (got "${request.tenantId}")`);
  }
  const oid = devServiceId(request.service);
  const key = await importJWK(keys.privateJwk, 'RS256');
  return new SignJWT({
    tid: request.tenantId,
    oid,
    roles: request.roles,
    azp: devServiceClientId(request.service),
    azpacr: '1',
    idtyp: 'app',
    name: request.service,
    ver: '2.0',
  })
    .setProtectedHeader({ alg: 'RS256', kid: keys.kid, typ: 'JWT' })
    .setIssuer(request.issuer.replaceAll('{tid}', request.tenantId))
    .setAudience(request.audience)
    .setSubject(oid)
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

/** Serves the dev issuer's public keys, as an identity provider's JWKS endpoint does (refused in production). */
export async function startDevIssuer(
  keys: DevKeys,
  options: { host: string; port: number; audience?: string } & DevIssuerGuard,
): Promise<DevIssuer> {
  assertDevIssuerAllowed(options);
  const jwks = JSON.stringify({ keys: [keys.publicJwk] });
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && JWKS_PATHS.has(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(jwks);
      return;
    }
    if (req.method === 'POST' && req.url === DEV_TOKEN_PATH && options.audience) {
      mintOverHttp(req, keys, { issuer, audience: options.audience }).then(
        (body) =>
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body),
        (error: unknown) =>
          res.writeHead(400, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              error: error instanceof ValidationError ? error.message : 'bad token request',
            }),
          ),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  issuer = devIssuerEndpoints(options.host, port).issuer;
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

/** App roles a dev token may carry (the roles the SDL declares). */
const DEV_ROLES = new Set(['Reader', 'Contributor', 'Approver', 'Admin', 'Auditor']);

/** Reads `{tenant, user, roles, ttlSeconds?}` and answers `{token, expiresIn}`; refuses anything else. */
async function mintOverHttp(
  req: IncomingMessage,
  keys: DevKeys,
  target: { issuer: string; audience: string },
): Promise<string> {
  let raw = '';
  for await (const chunk of req) {
    raw += String(chunk);
    if (raw.length > MAX_TOKEN_REQUEST_BYTES) throw new ValidationError('token request too large');
  }
  let body: { tenant?: unknown; user?: unknown; roles?: unknown; ttlSeconds?: unknown };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    throw new ValidationError('token request must be JSON: {"tenant","user","roles"}');
  }
  const { tenant, user, roles } = body;
  if (typeof tenant !== 'string' || typeof user !== 'string') {
    throw new ValidationError('tenant and user must be strings');
  }
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || !DEV_ROLES.has(r))) {
    throw new ValidationError(`roles must be a list of ${[...DEV_ROLES].join(', ')}`);
  }
  const ttl = body.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > DEV_TOKEN_TTL_SECONDS) {
    throw new ValidationError(`ttlSeconds must be a whole number from 1 to ${DEV_TOKEN_TTL_SECONDS}`);
  }
  const token = await signDevToken(keys, {
    tenant,
    user,
    roles: roles as string[],
    ttlSeconds: ttl,
    ...target,
  });
  return JSON.stringify({
    token,
    expiresIn: ttl,
    tenantId: devTenantId(tenant),
    userId: devUserId(tenant, user),
  });
}
