import { z } from 'zod';
import { isUuid } from '../ids.ts';
import { bool, httpUrl, int, port, rule, text, uuid, uuidList } from './env.ts';
import type { NodeEnv } from './runtime.ts';

/** Default audience (the API's client id) of access tokens. */
export const DEFAULT_AUDIENCE = 'api://widgetdc';
/** Default allowed clock skew when checking `exp` and `nbf`. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60;
/** Entra ID's sign-in host in the public cloud (sovereign clouds have their own). */
export const DEFAULT_ENTRA_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** Default port of the embedded development token issuer. */
export const DEFAULT_DEV_ISSUER_PORT = 4010;

/** How identities are verified, which tenants are admitted, and who this process is. */
export interface AuthConfig {
  /** JWKS endpoint; absent means the embedded dev issuer. */
  jwksUrl: string | undefined;
  /** Expected `iss`; `{tid}` is replaced by the token's tenant id. */
  issuer: string | undefined;
  audience: string;
  clockToleranceSeconds: number;
  autoProvisionTenants: boolean;
  /** Tenants whose Admins operate the platform itself (event bus statistics, every tenant's dead letters). */
  operatorTenantIds: readonly string[];
  allowDevIssuerInProduction: boolean;
  /** Port of the embedded development token issuer (`npm start`, `npm run token`). */
  devIssuerPort: number;
  /** Entra ID v2 tokens (AUTH_TENANT_IDS + AUTH_CLIENT_ID); absent when not configured. */
  entra: EntraConfig | undefined;
  /** This process's own app identity at Entra ID (client credentials); absent when not configured. */
  service: ServiceCredentialsConfig | undefined;
}

/** Entra ID settings: which tenants may call, and the API's app registration. */
export interface EntraConfig {
  /** Allowed directory tenants (`tid`, lower-case GUIDs); one means single-tenant. */
  tenantIds: string[];
  /** Application (client) id of the API's app registration; tokens' `aud` must equal it. */
  clientId: string;
  /** Sign-in host, e.g. https://login.microsoftonline.com. */
  authorityHost: string;
}

/** A worker's or agent's own app registration, used with msal-node client credentials. */
export interface ServiceCredentialsConfig {
  clientId: string;
  /** Exactly one of `clientSecret` and `certificateFile` is set. */
  clientSecret: string | undefined;
  /** PEM file holding the certificate and its private key. */
  certificateFile: string | undefined;
  /** Tenant the service signs in to (default: the first of AUTH_TENANT_IDS). */
  tenantId: string;
  /** Scope requested, `<API client id>/.default` unless overridden. */
  scope: string;
}

const fields = z.object({
  AUTH_JWKS_URL: httpUrl(),
  AUTH_ISSUER: text(),
  AUTH_AUDIENCE: text(),
  AUTH_CLOCK_TOLERANCE_SECONDS: int(DEFAULT_CLOCK_TOLERANCE_SECONDS, 0, 300),
  TENANT_AUTO_PROVISION: bool(false),
  OPERATOR_TENANT_IDS: uuidList('tenant GUIDs'),
  ALLOW_DEV_ISSUER_IN_PRODUCTION: bool(false),
  DEV_ISSUER_PORT: port(DEFAULT_DEV_ISSUER_PORT),
  AUTH_TENANT_IDS: text(),
  AUTH_CLIENT_ID: text(),
  AUTH_AUTHORITY_HOST: httpUrl(),
  AUTH_SERVICE_CLIENT_ID: text(),
  AUTH_SERVICE_CLIENT_SECRET: text(),
  AUTH_SERVICE_CERTIFICATE_FILE: text(),
  AUTH_SERVICE_TENANT_ID: uuid('a tenant GUID'),
  AUTH_SERVICE_SCOPE: text(),
});
type AuthEnv = z.output<typeof fields>;

/** The AUTH_* variables, `TENANT_AUTO_PROVISION`, `OPERATOR_TENANT_IDS`, `ALLOW_DEV_ISSUER_IN_PRODUCTION`, `DEV_ISSUER_PORT`. */
export const authSchema = (nodeEnv: NodeEnv) =>
  fields
    .check(
      rule<AuthEnv>((env, ctx) => {
        for (const message of [
          ...issuerProblems(env),
          ...entra(env, nodeEnv).problems,
          ...service(env).problems,
        ]) {
          ctx.addIssue({ code: 'custom', message, input: env });
        }
      }),
    )
    .transform((env): AuthConfig => {
      const entraConfig = entra(env, nodeEnv).value;
      return {
        jwksUrl: env.AUTH_JWKS_URL,
        issuer: env.AUTH_ISSUER,
        audience: env.AUTH_AUDIENCE ?? DEFAULT_AUDIENCE,
        clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
        autoProvisionTenants: env.TENANT_AUTO_PROVISION,
        operatorTenantIds: env.OPERATOR_TENANT_IDS,
        allowDevIssuerInProduction: env.ALLOW_DEV_ISSUER_IN_PRODUCTION,
        devIssuerPort: env.DEV_ISSUER_PORT,
        entra: entraConfig,
        service: service(env, entraConfig).value,
      };
    });

function issuerProblems(env: AuthEnv): string[] {
  // A URL that failed its own check still counts as set: its problem is already reported.
  if (env.AUTH_JWKS_URL !== undefined && !env.AUTH_ISSUER)
    return [
      'AUTH_ISSUER must be set when AUTH_JWKS_URL is set (e.g. https://login.microsoftonline.com/{tid}/v2.0)',
    ];
  if (env.AUTH_ISSUER && env.AUTH_JWKS_URL === undefined)
    return ['AUTH_JWKS_URL must be set when AUTH_ISSUER is set'];
  return [];
}

interface Checked<T> {
  value: T;
  problems: string[];
}

function entra(env: AuthEnv, nodeEnv: NodeEnv): Checked<EntraConfig | undefined> {
  const { AUTH_TENANT_IDS: rawTenants, AUTH_CLIENT_ID: clientId } = env;
  if (rawTenants === undefined && clientId === undefined) return { value: undefined, problems: [] };
  const authorityHost =
    typeof env.AUTH_AUTHORITY_HOST === 'string' ? env.AUTH_AUTHORITY_HOST : DEFAULT_ENTRA_AUTHORITY_HOST;
  const problems: string[] = [];
  const tenantIds = (rawTenants ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  if (tenantIds.length === 0) {
    problems.push(
      'AUTH_TENANT_IDS must list the Entra ID tenant id(s) allowed to call when AUTH_CLIENT_ID is set',
    );
  }
  for (const tenant of tenantIds.filter((t) => !isUuid(t))) {
    problems.push(
      `AUTH_TENANT_IDS must be comma-separated tenant GUIDs (got "${tenant}"; "common" and "organizations" are not allowed: list the tenants)`,
    );
  }
  if (clientId === undefined) {
    problems.push(
      "AUTH_CLIENT_ID must be set when AUTH_TENANT_IDS is set (the API app registration's Application (client) ID)",
    );
  } else if (!isUuid(clientId)) {
    problems.push(
      `AUTH_CLIENT_ID must be the API app registration's Application (client) ID, a GUID (got "${clientId}")`,
    );
  }
  if (nodeEnv === 'production' && !authorityHost.startsWith('https://')) {
    problems.push('AUTH_AUTHORITY_HOST must be an https:// URL when NODE_ENV=production');
  }
  return {
    value: {
      tenantIds: [...new Set(tenantIds)],
      clientId: (clientId ?? '').toLowerCase(),
      authorityHost: authorityHost.replace(/\/+$/, ''),
    },
    problems,
  };
}

function service(
  env: AuthEnv,
  entraConfig = entra(env, 'development').value,
): Checked<ServiceCredentialsConfig | undefined> {
  const {
    AUTH_SERVICE_CLIENT_ID: clientId,
    AUTH_SERVICE_CLIENT_SECRET: clientSecret,
    AUTH_SERVICE_CERTIFICATE_FILE: certificateFile,
    AUTH_SERVICE_TENANT_ID: tenantId,
    AUTH_SERVICE_SCOPE: scope,
  } = env;
  const problems: string[] = [];
  if (!clientId) {
    if (clientSecret || certificateFile || tenantId || scope) {
      problems.push('AUTH_SERVICE_CLIENT_ID must be set when other AUTH_SERVICE_* settings are set');
    }
    return { value: undefined, problems };
  }
  if (!isUuid(clientId)) {
    problems.push(
      `AUTH_SERVICE_CLIENT_ID must be the worker app registration's client id, a GUID (got "${clientId}")`,
    );
  }
  if (!entraConfig) {
    problems.push('AUTH_SERVICE_CLIENT_ID needs Entra ID configured: set AUTH_TENANT_IDS and AUTH_CLIENT_ID');
  }
  if (Boolean(clientSecret) === Boolean(certificateFile)) {
    problems.push('Set exactly one of AUTH_SERVICE_CLIENT_SECRET and AUTH_SERVICE_CERTIFICATE_FILE');
  }
  return {
    value: {
      clientId: clientId.toLowerCase(),
      clientSecret,
      certificateFile,
      tenantId: tenantId ?? entraConfig?.tenantIds[0] ?? '',
      scope: scope ?? `${entraConfig?.clientId ?? clientId}/.default`,
    },
    problems,
  };
}
