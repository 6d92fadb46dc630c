import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfidentialClientApplication, type INetworkModule, ProtocolMode } from '@azure/msal-node';
import type { PlatformConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { type DevKeys, loadOrCreateDevKeys, signDevServiceToken } from './dev-issuer.ts';

/** Renew a cached token this long before it expires (or at half its lifetime, if shorter). */
export const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;
/** Lifetime of the dev issuer's service tokens. */
export const DEV_SERVICE_TOKEN_TTL_SECONDS = 3600;
/** App roles of a dev service identity unless told otherwise. */
export const DEFAULT_DEV_SERVICE_ROLES = ['Contributor'];

/** Gives a background worker or agent access tokens for its own app identity. */
export interface ServiceTokenProvider {
  /** The service's name (logs). */
  readonly service: string;
  /** An access token for the API, acting in `tenantId` (default: the configured tenant); cached and renewed before expiry. */
  getToken(tenantId?: string): Promise<string>;
}

/** A token could not be obtained; `code` is the identity provider's error code when it gave one. */
export class ServiceTokenError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServiceTokenError';
    this.code = code;
  }
}

interface FreshToken {
  token: string;
  expiresAt: number;
}

/** Caches one token per tenant, renews it before expiry, and shares one request among concurrent callers. */
function caching(
  service: string,
  defaultTenant: string | undefined,
  fetchToken: (tenantId: string | undefined) => Promise<FreshToken>,
): ServiceTokenProvider {
  const cache = new Map<string, { fresh?: FreshToken; renewAt: number; pending?: Promise<FreshToken> }>();
  return {
    service,
    async getToken(tenantId = defaultTenant) {
      const key = tenantId ?? '';
      const entry = cache.get(key) ?? { renewAt: 0 };
      cache.set(key, entry);
      if (entry.fresh && Date.now() < entry.renewAt) return entry.fresh.token;
      entry.pending ??= fetchToken(tenantId)
        .then((fresh) => {
          const lifetime = fresh.expiresAt - Date.now();
          entry.fresh = fresh;
          entry.renewAt = fresh.expiresAt - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetime / 2);
          return fresh;
        })
        .finally(() => {
          entry.pending = undefined;
        });
      return (await entry.pending).token;
    },
  };
}

/** Client credentials of an app registration: a secret, or a certificate (preferred in production). */
export type ClientCredential =
  | { clientSecret: string }
  | { certificate: { thumbprintSha256: string; privateKey: string; x5c?: string } };

/** Options of {@link createMsalServiceTokenProvider}. */
export interface MsalServiceOptions {
  service: string;
  /** The worker's app registration (client) id. */
  clientId: string;
  credential: ClientCredential;
  /** Entra ID: `https://login.microsoftonline.com/<tenant id>`; OIDC mode: the provider's issuer URL. */
  authority: string;
  /** Authority for another tenant (multi-tenant workers); absent: only the default tenant. */
  tenantAuthority?: (tenantId: string) => string;
  /** `<API client id>/.default`: the app roles granted to the worker as application permissions. */
  scope: string;
  /** `OIDC` for a generic OpenID Connect provider (tests); Entra ID otherwise. */
  protocolMode?: 'AAD' | 'OIDC';
  /** Hosts trusted without Entra ID instance discovery (OIDC mode). */
  knownAuthorities?: string[];
  /** HTTP client, e.g. {@link msalNetworkClientTrusting} for a private CA. */
  networkClient?: INetworkModule;
}

/** Production token provider: msal-node ConfidentialClientApplication, client-credentials grant. */
export function createMsalServiceTokenProvider(options: MsalServiceOptions): ServiceTokenProvider {
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: options.clientId,
      authority: options.authority,
      ...('clientSecret' in options.credential
        ? { clientSecret: options.credential.clientSecret }
        : { clientCertificate: options.credential.certificate }),
      ...(options.knownAuthorities ? { knownAuthorities: options.knownAuthorities } : {}),
    },
    system: {
      protocolMode: options.protocolMode === 'OIDC' ? ProtocolMode.OIDC : ProtocolMode.AAD,
      ...(options.networkClient ? { networkClient: options.networkClient } : {}),
    },
  });
  return caching(options.service, undefined, async (tenantId) => {
    const authority =
      tenantId && options.tenantAuthority ? options.tenantAuthority(tenantId) : options.authority;
    let result: Awaited<ReturnType<typeof app.acquireTokenByClientCredential>>;
    try {
      result = await app.acquireTokenByClientCredential({ scopes: [options.scope], authority });
    } catch (error) {
      const code = (error as { errorCode?: string }).errorCode ?? 'unknown_error';
      const detail = (error as { errorMessage?: string }).errorMessage || (error as Error).message;
      throw new ServiceTokenError(
        `Service ${options.service} could not obtain a token from ${authority}: ${code}: ${detail}`,
        code,
        { cause: error },
      );
    }
    if (!result?.accessToken) {
      throw new ServiceTokenError(
        `Service ${options.service} got no access token from ${authority}`,
        'no_token',
      );
    }
    return { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 60_000 };
  });
}

/** Options of {@link createDevServiceTokenProvider}. */
export interface DevServiceOptions {
  service: string;
  keys: DevKeys;
  /** The dev issuer's issuer template (with `{tid}`). */
  issuer: string;
  audience: string;
  roles?: string[];
  /** Tenant used when `getToken()` is called without one. */
  defaultTenantId?: string;
  ttlSeconds?: number;
}

/** Embedded-mode token provider: the dev issuer mints app-only tokens (no `scp`, app roles, `oid` = service id). */
export function createDevServiceTokenProvider(options: DevServiceOptions): ServiceTokenProvider {
  const ttlSeconds = options.ttlSeconds ?? DEV_SERVICE_TOKEN_TTL_SECONDS;
  return caching(options.service, options.defaultTenantId, async (tenantId) => {
    if (!tenantId) {
      throw new ServiceTokenError(
        `Service ${options.service} needs a tenant id to act in (the dev issuer mints per-tenant tokens)`,
        'no_tenant',
      );
    }
    const token = await signDevServiceToken(options.keys, {
      service: options.service,
      tenantId,
      roles: options.roles ?? DEFAULT_DEV_SERVICE_ROLES,
      audience: options.audience,
      issuer: options.issuer,
      ttlSeconds,
    });
    return { token, expiresAt: Date.now() + ttlSeconds * 1000 };
  });
}

/** Reads a PEM file holding a certificate and its private key into msal-node's certificate credential. */
export async function loadCertificateCredential(file: string): Promise<ClientCredential> {
  const pem = await readFile(file, 'utf8');
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!certPem) throw new ConfigError([`AUTH_SERVICE_CERTIFICATE_FILE (${file}) holds no certificate`]);
  let privateKey: string;
  try {
    privateKey = createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new ConfigError([`AUTH_SERVICE_CERTIFICATE_FILE (${file}) holds no readable private key`]);
  }
  const cert = new X509Certificate(certPem);
  return {
    certificate: {
      thumbprintSha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
      privateKey,
      x5c: certPem,
    },
  };
}

/**
 * The token provider a worker or agent named `service` uses under this configuration: msal-node
 * with AUTH_SERVICE_* when set; otherwise the embedded dev issuer's keys (refused in production
 * unless ALLOW_DEV_ISSUER_IN_PRODUCTION=true).
 */
export async function serviceTokenProvider(
  config: PlatformConfig,
  service: string,
  options: { roles?: string[]; defaultTenantId?: string } = {},
): Promise<ServiceTokenProvider> {
  const { entra, service: credentials } = config.auth;
  if (credentials && entra) {
    return createMsalServiceTokenProvider({
      service,
      clientId: credentials.clientId,
      credential: credentials.clientSecret
        ? { clientSecret: credentials.clientSecret }
        : await loadCertificateCredential(credentials.certificateFile ?? ''),
      authority: `${entra.authorityHost}/${credentials.tenantId}`,
      tenantAuthority: (tenantId) => `${entra.authorityHost}/${tenantId}`,
      scope: credentials.scope,
    });
  }
  if (entra) {
    throw new ConfigError([
      `Service ${service} needs its own app identity with Entra ID: set AUTH_SERVICE_CLIENT_ID and AUTH_SERVICE_CLIENT_SECRET or AUTH_SERVICE_CERTIFICATE_FILE`,
    ]);
  }
  if (!config.auth.issuer) {
    throw new ConfigError([`Service ${service} needs AUTH_ISSUER (npm start sets it for its dev issuer)`]);
  }
  if (config.nodeEnv === 'production' && !config.auth.allowDevIssuerInProduction) {
    throw new ConfigError([
      `Service ${service} would use dev-issuer tokens under NODE_ENV=production: configure AUTH_SERVICE_* with Entra ID, or set ALLOW_DEV_ISSUER_IN_PRODUCTION=true`,
    ]);
  }
  return createDevServiceTokenProvider({
    service,
    keys: await loadOrCreateDevKeys(config.dataDir),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    ...options,
  });
}
