import { isAbsolute, resolve } from 'node:path';
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
    allowDevIssuerInProduction: boolean;
  };
  log: { level: LogLevel; format: 'pretty' | 'json' };
  apolloTelemetry: boolean;
  introspection: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

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
      allowDevIssuerInProduction: read.bool('ALLOW_DEV_ISSUER_IN_PRODUCTION', false),
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
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Typed accessors that collect problems instead of throwing one at a time. */
class EnvReader {
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
