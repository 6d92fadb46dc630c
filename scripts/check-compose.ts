// npm run check:compose: checks docker-compose.yml without a Docker engine. First the structure
// (parsed with `yaml`: services, dependencies, health checks, subgraph wiring), then the compose
// tool's own validation (`docker compose config -q`, or Debian's `docker-compose` package, v1.29),
// which needs no engine either. With --structure-only the compose tool is not required.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { consumerGroups, DEFAULT_PORTS, SUBGRAPH_NAMES } from './lib/services.ts';

/** The repository root. */
export const ROOT_DIR = resolve(import.meta.dirname, '..');
/** The compose file this script checks. */
export const COMPOSE_FILE = resolve(ROOT_DIR, 'docker-compose.yml');
/** rover's supergraph config, whose subgraph keys must be compose service names. */
export const SUPERGRAPH_CONFIG = resolve(ROOT_DIR, 'supergraph.yaml');

/**
 * Services that run once or need no probe (the workers and the backup schedule serve no port), and so
 * carry no health check.
 */
export const SERVICES_WITHOUT_HEALTHCHECK = ['migrate', 'jaeger', 'backup'] as const;

/** The compose service that runs a consumer group's workers. */
export const workerService = (group: string) => `worker-${group}`;

/** Whether a service carries no health check by design (one-shot, no port, or an event worker). */
export function exemptFromHealthcheck(name: string): boolean {
  return (SERVICES_WITHOUT_HEALTHCHECK as readonly string[]).includes(name) || name.startsWith('worker-');
}

/**
 * Stand-ins for the variables docker-compose.yml marks as required (`${VAR:?...}`), so the compose
 * tool can validate the file on a machine that has no real identity provider configured.
 */
export const PLACEHOLDER_ENV: Readonly<Record<string, string>> = {
  AUTH_TENANT_IDS: '00000000-0000-0000-0000-000000000000',
  AUTH_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  AUDIT_ANCHOR_KEY_FILE: '/run/placeholder/audit-anchor-key.pem',
};

/** Services that run once to completion; every other service is long-running. */
export const ONE_SHOT_SERVICES = ['migrate'] as const;
/** The restart policy of every long-running service: the orchestrator restarts it unless an operator stopped it. */
export const LONG_RUNNING_RESTART = 'unless-stopped';
/** The compose secret holding the audit anchor key, and where the audit service must read it. */
export const AUDIT_ANCHOR_SECRET = 'audit_anchor_key';

/** The part of a compose service these checks read. */
export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: (string | number | { target?: number; published?: string | number })[];
  restart?: string;
  secrets?: (string | { source?: string; target?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
}

/** The part of a compose file these checks read. */
export interface ComposeFile {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; external?: boolean; environment?: string } | null>;
}

/** Parses a compose file the way compose does: YAML merge keys (`<<: *anchor`) are resolved. */
export function parseCompose(text: string): ComposeFile {
  return parseYaml(text, { merge: true }) as ComposeFile;
}

/** Reads and parses docker-compose.yml. */
export function loadCompose(file = COMPOSE_FILE): ComposeFile {
  return parseCompose(readFileSync(file, 'utf8'));
}

/** The subgraph keys of supergraph.yaml. */
export function supergraphSubgraphs(file = SUPERGRAPH_CONFIG): string[] {
  const config = parseYaml(readFileSync(file, 'utf8')) as { subgraphs?: Record<string, unknown> };
  return Object.keys(config.subgraphs ?? {});
}

/** depends_on in either form, as `{ service: condition }` (the short form means service_started). */
export function dependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([name, spec]) => [name, spec?.condition ?? 'service_started']),
  );
}

/** environment in either form, as a plain object of strings. */
export function environment(service: ComposeService): Record<string, string> {
  const env = service.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]));
}

/** command in either form, as one string. */
export function commandLine(service: ComposeService): string {
  const { command } = service;
  return Array.isArray(command) ? command.join(' ') : (command ?? '');
}

/** The secrets a service receives, as `{ name: path in the container }`. */
export function secretMounts(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    (service.secrets ?? []).map((entry) => {
      const name = typeof entry === 'string' ? entry : (entry.source ?? '');
      const target = typeof entry === 'string' ? undefined : entry.target;
      return [name, target?.startsWith('/') ? target : `/run/secrets/${target ?? name}`];
    }),
  );
}

/** The volumes a service mounts, as `{ source: target }` (bind mounts keep their host path as source). */
export function volumeMounts(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    (service.volumes ?? []).map((entry) => {
      if (typeof entry !== 'string') return [entry.source ?? '', entry.target ?? ''];
      const [source = '', target = ''] = entry.split(':');
      return [source, target];
    }),
  );
}

/** The health check's test as one string ('' when there is none). */
export function healthcheckTest(service: ComposeService): string {
  const test = service.healthcheck?.test;
  if (service.healthcheck?.disable) return '';
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

/**
 * Every structural problem of a parsed compose file, empty when there is none: dependencies name
 * existing services, each supergraph subgraph is a service that runs its own entry point, listens on
 * its port, probes its /ready, connects as widgetdc_app and waits for the migration; the gateway
 * routes to the services by name and waits for them to be healthy; every long-running service
 * restarts unless stopped; the audit service alone gets the anchor key (a secret) and volume.
 */
export function checkComposeStructure(
  compose: ComposeFile,
  subgraphs: readonly string[],
  /** The consumer groups (`consumerGroups()` of scripts/lib/services.ts). */
  groups: readonly string[],
): string[] {
  const problems: string[] = [];
  const services = compose.services ?? {};
  const names = Object.keys(services);
  if (names.length === 0) return ['docker-compose.yml defines no services'];

  for (const [name, service] of Object.entries(services)) {
    if (!service.image && !service.build) problems.push(`service ${name} has neither image nor build`);
    for (const [target, condition] of Object.entries(dependencies(service))) {
      if (!services[target]) problems.push(`service ${name} depends on ${target}, which is not a service`);
      if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
        problems.push(`service ${name} waits for ${target} with unknown condition ${condition}`);
      }
      if (condition === 'service_healthy' && services[target] && !healthcheckTest(services[target])) {
        problems.push(`service ${name} waits for ${target} to be healthy, but ${target} has no health check`);
      }
    }
    const exempt = exemptFromHealthcheck(name);
    if (!exempt && !healthcheckTest(service)) problems.push(`service ${name} has no health check`);
    const script = /\bnode\s+(\S+\.ts)\b/.exec(commandLine(service))?.[1];
    if (script && !existsSync(resolve(ROOT_DIR, script))) {
      problems.push(`service ${name} runs ${script}, which does not exist`);
    }
  }

  for (const name of SUBGRAPH_NAMES) {
    if (!subgraphs.includes(name)) problems.push(`supergraph.yaml has no subgraph ${name}`);
  }
  for (const subgraph of subgraphs) {
    const service = services[subgraph];
    if (!service) {
      problems.push(`supergraph.yaml subgraph ${subgraph} is not a docker-compose service`);
      continue;
    }
    const port = DEFAULT_PORTS[subgraph as keyof typeof DEFAULT_PORTS];
    const env = environment(service);
    if (!commandLine(service).includes(`subgraphs/${subgraph}/src/index.ts`)) {
      problems.push(`service ${subgraph} does not run subgraphs/${subgraph}/src/index.ts`);
    }
    const portVar = `${subgraph.toUpperCase()}_PORT`;
    if (env[portVar] !== undefined && Number(env[portVar]) !== port) {
      problems.push(`service ${subgraph} sets ${portVar}=${env[portVar]}, expected ${port}`);
    }
    if (!healthcheckTest(service).includes(`:${port}/ready`)) {
      problems.push(`service ${subgraph}'s health check does not probe its /ready on port ${port}`);
    }
    if (!/^postgres(ql)?:\/\/widgetdc_app[:@]/.test(env.DATABASE_URL ?? '')) {
      problems.push(`service ${subgraph} must connect as widgetdc_app (DATABASE_URL)`);
    }
    if (dependencies(service).migrate !== 'service_completed_successfully') {
      problems.push(`service ${subgraph} must wait for migrate: service_completed_successfully`);
    }
  }

  const governance = services.governance;
  if (governance) {
    const expected = `http://agent:${DEFAULT_PORTS.agent}/graphql`;
    const agentUrl = environment(governance).AGENT_URL;
    if (agentUrl !== expected)
      problems.push(`service governance must set AGENT_URL=${expected} (got ${agentUrl})`);
  }

  const migrate = services.migrate;
  if (!migrate) problems.push('there is no migrate service');
  else {
    if (!commandLine(migrate).includes('scripts/migrate.ts'))
      problems.push('migrate does not run scripts/migrate.ts');
    if (!environment(migrate).MIGRATION_DATABASE_URL) problems.push('migrate has no MIGRATION_DATABASE_URL');
    if (!environment(migrate).DATABASE_APP_PASSWORD) problems.push('migrate has no DATABASE_APP_PASSWORD');
  }

  // Every consumer group has its workers, as npm start and the Kubernetes manifests run them.
  for (const group of groups) {
    const name = workerService(group);
    const worker = services[name];
    if (!worker) {
      problems.push(`there is no ${name} service: consumer group ${group} would have no worker`);
      continue;
    }
    if (!new RegExp(`scripts/worker\\.ts .*--group ${group}(\\s|$)`).test(commandLine(worker))) {
      problems.push(`${name} must run scripts/worker.ts --group ${group}`);
    }
    if (!environment(worker).REDIS_URL) problems.push(`${name} has no REDIS_URL`);
    if (!/^postgres(ql)?:\/\/widgetdc_app[:@]/.test(environment(worker).DATABASE_URL ?? '')) {
      problems.push(`service ${name} must connect as widgetdc_app (DATABASE_URL)`);
    }
    if (dependencies(worker).migrate !== 'service_completed_successfully') {
      problems.push(`service ${name} must wait for migrate: service_completed_successfully`);
    }
    if (!dependencies(worker).redis) problems.push(`service ${name} must depend on redis`);
  }
  for (const name of Object.keys(services).filter((n) => n.startsWith('worker-'))) {
    if (!groups.some((group) => workerService(group) === name))
      problems.push(`service ${name} runs no consumer group (groups: ${groups.join(', ')})`);
  }

  for (const [name, service] of Object.entries(services)) {
    const oneShot = (ONE_SHOT_SERVICES as readonly string[]).includes(name);
    if (oneShot && service.restart !== 'no' && service.restart !== 'on-failure') {
      problems.push(
        `service ${name} runs once: restart must be "no" or "on-failure" (got ${service.restart})`,
      );
    }
    if (!oneShot && service.restart !== LONG_RUNNING_RESTART) {
      problems.push(
        `service ${name} is long-running: restart must be ${LONG_RUNNING_RESTART} (got ${service.restart ?? 'none'})`,
      );
    }
  }
  problems.push(...auditAnchorProblems(compose));

  const gateway = services.gateway;
  if (!gateway) problems.push('there is no gateway service');
  else {
    const env = environment(gateway);
    const deps = dependencies(gateway);
    for (const subgraph of subgraphs) {
      const port = DEFAULT_PORTS[subgraph as keyof typeof DEFAULT_PORTS];
      const urlVar = `${subgraph.toUpperCase()}_URL`;
      if (env[urlVar] !== `http://${subgraph}:${port}/graphql`) {
        problems.push(`gateway must set ${urlVar}=http://${subgraph}:${port}/graphql (got ${env[urlVar]})`);
      }
      if (deps[subgraph] !== 'service_healthy') {
        problems.push(`gateway must wait for ${subgraph}: service_healthy`);
      }
    }
    const published = (gateway.ports ?? []).some((entry) =>
      typeof entry === 'object' ? entry.target === DEFAULT_PORTS.gateway : /:4000$/.test(String(entry)),
    );
    if (!published) problems.push(`gateway does not publish port ${DEFAULT_PORTS.gateway}`);
  }
  return problems;
}

/**
 * The audit service reads its anchor key from a compose secret (AUDIT_ANCHOR_KEY_FILE) and keeps
 * checkpoints on a named volume (AUDIT_ANCHOR_DIR); no other service, the database least of all,
 * gets either.
 */
export function auditAnchorProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  const services = compose.services ?? {};
  const audit = services.audit;
  if (!audit) return problems;
  const env = environment(audit);
  const secret = compose.secrets?.[AUDIT_ANCHOR_SECRET];
  if (!secret || (!secret.file && !secret.external && !secret.environment)) {
    problems.push(
      `there is no secret ${AUDIT_ANCHOR_SECRET} (file, environment or external) for the audit anchor key`,
    );
  }
  const mounted = secretMounts(audit)[AUDIT_ANCHOR_SECRET];
  if (!mounted) problems.push(`service audit must receive the secret ${AUDIT_ANCHOR_SECRET}`);
  else if (env.AUDIT_ANCHOR_KEY_FILE !== mounted) {
    problems.push(
      `service audit must set AUDIT_ANCHOR_KEY_FILE=${mounted} (got ${env.AUDIT_ANCHOR_KEY_FILE})`,
    );
  }
  const anchorDir = env.AUDIT_ANCHOR_DIR;
  const volume = Object.entries(volumeMounts(audit)).find(
    ([, target]) => anchorDir && target === anchorDir,
  )?.[0];
  if (!anchorDir) problems.push('service audit must set AUDIT_ANCHOR_DIR to its checkpoint volume');
  else if (!volume) problems.push(`service audit must mount a volume at AUDIT_ANCHOR_DIR (${anchorDir})`);
  else if (!compose.volumes || !(volume in compose.volumes)) {
    problems.push(`service audit's checkpoint volume ${volume} must be a named volume (top-level volumes)`);
  }
  for (const [name, service] of Object.entries(services)) {
    if (name === 'audit') continue;
    if (secretMounts(service)[AUDIT_ANCHOR_SECRET]) {
      problems.push(`service ${name} must not receive the audit anchor key (${AUDIT_ANCHOR_SECRET})`);
    }
    if (volume && volumeMounts(service)[volume] !== undefined) {
      problems.push(`service ${name} must not mount the audit checkpoint volume ${volume}`);
    }
  }
  return problems;
}

/** How to run the compose tool: `docker compose` (v2 plugin) or `docker-compose`; absent: none. */
export interface ComposeCli {
  command: string;
  args: string[];
  version: string;
}

/** Finds a working compose tool, preferring the v2 plugin. */
export function findComposeCli(): ComposeCli | undefined {
  const candidates: [string, string[]][] = [
    ['docker', ['compose']],
    ['docker-compose', []],
  ];
  for (const [command, args] of candidates) {
    const probe = spawnSync(command, [...args, 'version'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status === 0) return { command, args, version: probe.stdout.trim().split('\n')[0] ?? '' };
  }
  return undefined;
}

/** Result of running the compose tool. */
export interface ComposeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `<compose> -f <file> config <extra...>`. The required auth variables get placeholders unless
 * the environment already has them; `env` overrides (a key set to undefined is removed).
 */
export function runComposeConfig(
  cli: ComposeCli,
  extra: string[] = ['-q'],
  env: Record<string, string | undefined> = {},
  file = COMPOSE_FILE,
): ComposeRun {
  const childEnv: Record<string, string | undefined> = { ...PLACEHOLDER_ENV, ...process.env, ...env };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const run = spawnSync(cli.command, [...cli.args, '-f', file, 'config', ...extra], {
    cwd: ROOT_DIR,
    env: childEnv,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? String(run.error ?? '') };
}

async function main(): Promise<void> {
  const structureOnly = process.argv.includes('--structure-only');
  const problems = checkComposeStructure(loadCompose(), supergraphSubgraphs(), await consumerGroups());
  if (problems.length > 0) {
    process.stderr.write(`docker-compose.yml has problems:\n  - ${problems.join('\n  - ')}\n`);
    process.exit(1);
  }
  process.stdout.write('docker-compose.yml: structure ok\n');
  if (structureOnly) return;
  const cli = findComposeCli();
  if (!cli) {
    process.stderr.write(
      'no compose tool: install one (Debian: apt-get install -y docker-compose) or pass --structure-only\n',
    );
    process.exit(1);
  }
  const run = runComposeConfig(cli);
  const shown = [cli.command, ...cli.args, 'config -q'].join(' ');
  if (run.status !== 0) {
    process.stderr.write(`${shown} failed:\n${run.stderr}`);
    process.exit(1);
  }
  process.stdout.write(`docker-compose.yml: ${shown} ok (${cli.version})\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
