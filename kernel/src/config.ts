import { isAbsolute, resolve } from 'node:path';
import { isUuid } from './db/tenant-context.ts';
import { ConfigError } from './errors.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';

/** The four subgraphs; the same names key supergraph.yaml, docker-compose services and log prefixes. */
export const SUBGRAPH_NAMES = ['knowledge', 'agent', 'governance', 'audit'] as const;

/** A subgraph name. */
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Default ports: the gateway on 4000, subgraphs on 4001-4004, the dev issuer on 4010. */
export const DEFAULT_PORTS = {
  gateway: 4000,
  knowledge: 4001,
  agent: 4002,
  governance: 4003,
  audit: 4004,
  devIssuer: 4010,
} as const;

/** Default data folder of the embedded database and the dev issuer's keys. */
export const DEFAULT_DATA_DIR = '.data';
/** Default audience (the API's client id) of access tokens. */
export const DEFAULT_AUDIENCE = 'api://widgetdc';
/** Default pool size per service process. */
export const DEFAULT_DB_POOL_MAX = 10;
/** Default allowed clock skew when checking `exp` and `nbf`. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60;
/** Entra ID's sign-in host in the public cloud (sovereign clouds have their own). */
export const DEFAULT_ENTRA_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** Default operation limits of the gateway (GATEWAY_MAX_DEPTH, _ALIASES, _COST, _TOKENS). */
export const DEFAULT_GATEWAY_LIMITS = {
  maxDepth: 15,
  maxAliases: 20,
  maxCost: 10_000,
  maxTokens: 3_000,
} as const;

/** Where services find each other and the database, how they verify identities and log. */
export interface PlatformConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  ports: Record<SubgraphName | 'gateway' | 'devIssuer', number>;
  /** Routing URL overrides for the gateway; absent names use supergraph.yaml's routing_url. */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  dataDir: string;
  database: {
    /** Where services connect, as the application role. Absent: the embedded PGlite. */
    url: string | undefined;
    /** Where migrations run, as a role that may create roles and schemas. Defaults to `url`. */
    migrationUrl: string | undefined;
    poolMax: number;
  };
  auth: {
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
    /** Entra ID v2 tokens (AUTH_TENANT_IDS + AUTH_CLIENT_ID); absent when not configured. */
    entra: EntraConfig | undefined;
    /** This process's own app identity at Entra ID (client credentials); absent when not configured. */
    service: ServiceCredentialsConfig | undefined;
  };
  log: { level: LogLevel; format: 'pretty' | 'json' };
  apolloTelemetry: boolean;
  introspection: boolean;
  /** OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); absent: telemetry stays in-process. */
  otlpEndpoint: string | undefined;
  /** Limits the gateway enforces on every operation before planning it. */
  gateway: { limits: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number } };
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

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: Env = process.env): PlatformConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const ports = {
    gateway: read.port('GATEWAY_PORT', DEFAULT_PORTS.gateway),
    knowledge: read.port('KNOWLEDGE_PORT', DEFAULT_PORTS.knowledge),
    agent: read.port('AGENT_PORT', DEFAULT_PORTS.agent),
    governance: read.port('GOVERNANCE_PORT', DEFAULT_PORTS.governance),
    audit: read.port('AUDIT_PORT', DEFAULT_PORTS.audit),
    devIssuer: read.port('DEV_ISSUER_PORT', DEFAULT_PORTS.devIssuer),
  };
  const subgraphUrls: Partial<Record<SubgraphName, string>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const url = read.httpUrl(`${name.toUpperCase()}_URL`);
    if (url) subgraphUrls[name] = url;
  }
  const dataDirRaw = read.string('WIDGETDC_DATA_DIR') ?? DEFAULT_DATA_DIR;
  const databaseUrl = read.postgresUrl('DATABASE_URL');
  const jwksUrl = read.httpUrl('AUTH_JWKS_URL');
  const issuer = read.string('AUTH_ISSUER');
  if (jwksUrl && !issuer)
    problems.push(
      'AUTH_ISSUER must be set when AUTH_JWKS_URL is set (e.g. https://login.microsoftonline.com/{tid}/v2.0)',
    );
  if (issuer && !jwksUrl) problems.push('AUTH_JWKS_URL must be set when AUTH_ISSUER is set');
  const entra = readEntra(read, problems, nodeEnv);
  const service = readServiceCredentials(read, problems, entra);

  const config: PlatformConfig = {
    nodeEnv,
    host: read.string('HOST') ?? '127.0.0.1',
    ports,
    subgraphUrls,
    dataDir: isAbsolute(dataDirRaw) ? dataDirRaw : resolve(dataDirRaw),
    database: {
      url: databaseUrl,
      migrationUrl: read.postgresUrl('MIGRATION_DATABASE_URL') ?? databaseUrl,
      poolMax: read.int('DB_POOL_MAX', DEFAULT_DB_POOL_MAX, 1, 200),
    },
    auth: {
      jwksUrl,
      issuer,
      audience: read.string('AUTH_AUDIENCE') ?? DEFAULT_AUDIENCE,
      clockToleranceSeconds: read.int(
        'AUTH_CLOCK_TOLERANCE_SECONDS',
        DEFAULT_CLOCK_TOLERANCE_SECONDS,
        0,
        300,
      ),
      autoProvisionTenants: read.bool('TENANT_AUTO_PROVISION', false),
      operatorTenantIds: readOperatorTenants(read, problems),
      allowDevIssuerInProduction: read.bool('ALLOW_DEV_ISSUER_IN_PRODUCTION', false),
      entra,
      service,
    },
    log: {
      level: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
      format: read.oneOf(
        'LOG_FORMAT',
        ['pretty', 'json'] as const,
        nodeEnv === 'production' ? 'json' : 'pretty',
      ),
    },
    apolloTelemetry: read.bool('WIDGETDC_APOLLO_TELEMETRY', false),
    introspection: read.bool('GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
    otlpEndpoint: read.httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT'),
    gateway: {
      limits: {
        maxDepth: read.int('GATEWAY_MAX_DEPTH', DEFAULT_GATEWAY_LIMITS.maxDepth, 1, 1_000),
        maxAliases: read.int('GATEWAY_MAX_ALIASES', DEFAULT_GATEWAY_LIMITS.maxAliases, 1, 10_000),
        maxCost: read.int('GATEWAY_MAX_COST', DEFAULT_GATEWAY_LIMITS.maxCost, 1, 100_000_000),
        maxTokens: read.int('GATEWAY_MAX_TOKENS', DEFAULT_GATEWAY_LIMITS.maxTokens, 10, 1_000_000),
      },
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readEntra(read: EnvReader, problems: string[], nodeEnv: string): EntraConfig | undefined {
  const rawTenants = read.string('AUTH_TENANT_IDS');
  const clientId = read.string('AUTH_CLIENT_ID');
  const authorityHost = read.httpUrl('AUTH_AUTHORITY_HOST') ?? DEFAULT_ENTRA_AUTHORITY_HOST;
  if (rawTenants === undefined && clientId === undefined) return undefined;
  const tenantIds = (rawTenants ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  if (tenantIds.length === 0) {
    problems.push(
      'AUTH_TENANT_IDS must list the Entra ID tenant id(s) allowed to call when AUTH_CLIENT_ID is set',
    );
  }
  for (const tenant of tenantIds) {
    if (!isUuid(tenant)) {
      problems.push(
        `AUTH_TENANT_IDS must be comma-separated tenant GUIDs (got "${tenant}"; "common" and "organizations" are not allowed: list the tenants)`,
      );
    }
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
    tenantIds: [...new Set(tenantIds)],
    clientId: (clientId ?? '').toLowerCase(),
    authorityHost: authorityHost.replace(/\/+$/, ''),
  };
}

function readServiceCredentials(
  read: EnvReader,
  problems: string[],
  entra: EntraConfig | undefined,
): ServiceCredentialsConfig | undefined {
  const clientId = read.string('AUTH_SERVICE_CLIENT_ID');
  const clientSecret = read.string('AUTH_SERVICE_CLIENT_SECRET');
  const certificateFile = read.string('AUTH_SERVICE_CERTIFICATE_FILE');
  const tenantId = read.string('AUTH_SERVICE_TENANT_ID')?.toLowerCase();
  const scope = read.string('AUTH_SERVICE_SCOPE');
  if (!clientId) {
    if (clientSecret || certificateFile || tenantId || scope) {
      problems.push('AUTH_SERVICE_CLIENT_ID must be set when other AUTH_SERVICE_* settings are set');
    }
    return undefined;
  }
  if (!isUuid(clientId)) {
    problems.push(
      `AUTH_SERVICE_CLIENT_ID must be the worker app registration's client id, a GUID (got "${clientId}")`,
    );
  }
  if (!entra) {
    problems.push('AUTH_SERVICE_CLIENT_ID needs Entra ID configured: set AUTH_TENANT_IDS and AUTH_CLIENT_ID');
  }
  if (Boolean(clientSecret) === Boolean(certificateFile)) {
    problems.push('Set exactly one of AUTH_SERVICE_CLIENT_SECRET and AUTH_SERVICE_CERTIFICATE_FILE');
  }
  if (tenantId !== undefined && !isUuid(tenantId)) {
    problems.push(`AUTH_SERVICE_TENANT_ID must be a tenant GUID (got "${tenantId}")`);
  }
  return {
    clientId: clientId.toLowerCase(),
    clientSecret,
    certificateFile,
    tenantId: tenantId ?? entra?.tenantIds[0] ?? '',
    scope: scope ?? `${entra?.clientId ?? clientId}/.default`,
  };
}

/** Typed accessors that collect problems instead of throwing one at a time. */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: string[];

  constructor(env: Env, problems: string[]) {
    this.#env = env;
    this.#problems = problems;
  }

  string(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === '' ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.#problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, 0, 65535);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    this.#problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.#problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }

  httpUrl(name: string): string | undefined {
    return this.#url(name, ['http:', 'https:'], 'an http:// or https:// URL');
  }

  postgresUrl(name: string): string | undefined {
    return this.#url(name, ['postgres:', 'postgresql:'], 'a postgres:// URL');
  }

  #url(name: string, protocols: string[], what: string): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (protocols.includes(url.protocol)) return raw;
    } catch {
      // reported below
    }
    this.#problems.push(`${name} must be ${what}`);
    return undefined;
  }
}

/** `OPERATOR_TENANT_IDS`: comma-separated tenant GUIDs whose Admins are platform operators. */
function readOperatorTenants(read: EnvReader, problems: string[]): string[] {
  const raw = read.string('OPERATOR_TENANT_IDS');
  if (!raw) return [];
  const ids = raw
    .split(',')
    .map((id) => id.trim().toLowerCase())
    .filter(Boolean);
  const bad = ids.filter((id) => !isUuid(id));
  if (bad.length > 0)
    problems.push(`OPERATOR_TENANT_IDS must be comma-separated tenant GUIDs (got "${bad.join(', ')}")`);
  return ids;
}
