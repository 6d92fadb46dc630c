// docker-compose.yml, Dockerfile and .dockerignore, checked without a Docker engine: the structure by
// parsing the YAML, and, when a compose tool (`docker compose` or `docker-compose`) is installed,
// the tool's own validation and interpolation.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import {
  AUDIT_ANCHOR_SECRET,
  type ComposeFile,
  checkComposeStructure,
  commandLine,
  dependencies,
  environment,
  exemptFromHealthcheck,
  findComposeCli,
  healthcheckTest,
  loadCompose,
  parseCompose,
  ROOT_DIR,
  runComposeConfig,
  secretMounts,
  supergraphSubgraphs,
  volumeMounts,
  workerService,
} from '../check-compose.ts';
import { consumerGroups, DEFAULT_PORTS, SUBGRAPH_NAMES } from '../lib/services.ts';

const compose = loadCompose();
const services = compose.services ?? {};
const subgraphs = supergraphSubgraphs();
/** The consumer groups the subgraphs define (each needs its worker service). */
const groups = await consumerGroups();
const workers = groups.map(workerService);
const appServices = [...SUBGRAPH_NAMES, 'gateway'] as const;
/** The compose interpolation of widgetdc_app's password, with its dev default. */
const APP_PASSWORD = `\${WIDGETDC_APP_PASSWORD:-change-me}`;

/** Repository files `entries` import, transitively (aliases and relative paths; packages left out). */
function importClosure(entries: readonly string[]): string[] {
  const aliases: Record<string, string> = {
    '#kernel/': 'kernel/src/',
    '#events/': 'events/src/',
    '#contracts/': 'contracts/src/',
    '#testing/': 'testing/',
  };
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(resolve(ROOT_DIR, file), 'utf8');
    const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)].map(
      (m) => m[1]!,
    );
    specs.push(...[...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!));
    for (const spec of specs) {
      const alias = Object.keys(aliases).find((a) => spec.startsWith(a));
      if (alias) visit(aliases[alias] + spec.slice(alias.length));
      else if (spec.startsWith('.')) visit(relative(ROOT_DIR, resolve(ROOT_DIR, dirname(file), spec)));
    }
  };
  for (const entry of entries) visit(entry);
  return [...seen];
}

/** A deep copy to mutate in negative tests. */
const copy = (): ComposeFile => structuredClone(compose);
/** A copy's service environment as a mutable object (the file uses the mapping form). */
const environmentOf = (file: ComposeFile, name: string) =>
  file.services![name]!.environment as Record<string, string>;

describe('docker-compose.yml structure', () => {
  it('has no structural problems', () => {
    expect(checkComposeStructure(compose, subgraphs, groups)).toEqual([]);
  });

  it("defines the infrastructure, the migration, a worker per consumer group, the backup, supergraph.yaml's subgraphs and the gateway", () => {
    const infrastructure = ['postgres', 'redis', 'jaeger', 'migrate', 'backup'];
    expect(groups).toEqual(
      expect.arrayContaining(['agent-approvals', 'agent-runner', 'governance-approvals', 'knowledge-ingest']),
    );
    expect(Object.keys(services).sort()).toEqual(
      [...infrastructure, ...workers, ...subgraphs, 'gateway'].sort(),
    );
  });

  it('refuses a consumer group without its worker service, and a worker of no group', () => {
    const missing = copy();
    delete missing.services!['worker-knowledge-ingest'];
    expect(checkComposeStructure(missing, subgraphs, groups)).toEqual([
      'there is no worker-knowledge-ingest service: consumer group knowledge-ingest would have no worker',
    ]);
    const stray = copy();
    stray.services!['worker-nobody'] = structuredClone(stray.services!['worker-agent-runner']!);
    expect(checkComposeStructure(stray, subgraphs, groups)).toContain(
      `service worker-nobody runs no consumer group (groups: ${groups.join(', ')})`,
    );
    const wrongGroup = copy();
    wrongGroup.services!['worker-agent-runner']!.command = [
      'node',
      'scripts/worker.ts',
      '--group',
      'agent-approvals',
    ];
    expect(checkComposeStructure(wrongGroup, subgraphs, groups)).toEqual([
      'worker-agent-runner must run scripts/worker.ts --group agent-runner',
    ]);
  });

  it("tells governance where the agent subgraph is (governance's AGENT_URL)", () => {
    expect(environment(services.governance!).AGENT_URL).toBe(`http://agent:${DEFAULT_PORTS.agent}/graphql`);
    const wrong = copy();
    (wrong.services!.governance!.environment as Record<string, string>).AGENT_URL =
      'http://localhost:4002/graphql';
    expect(checkComposeStructure(wrong, subgraphs, groups)).toContain(
      `service governance must set AGENT_URL=http://agent:${DEFAULT_PORTS.agent}/graphql (got http://localhost:4002/graphql)`,
    );
  });

  it('names a service after every supergraph.yaml subgraph', () => {
    expect([...subgraphs].sort()).toEqual([...SUBGRAPH_NAMES].sort());
    for (const name of subgraphs) expect(services[name]).toBeDefined();
  });

  it('points every depends_on at an existing service', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const target of Object.keys(dependencies(service))) {
        expect({ service: name, dependsOn: target, exists: target in services }).toEqual({
          service: name,
          dependsOn: target,
          exists: true,
        });
      }
    }
  });

  it('gives every service an image or a build, and a health check unless it is migrate or jaeger', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(Boolean(service.image || service.build)).toBe(true);
      const exempt = exemptFromHealthcheck(name);
      if (!exempt)
        expect({ name, healthcheck: healthcheckTest(service) !== '' }).toEqual({ name, healthcheck: true });
    }
  });

  it('runs PostgreSQL with pgvector, Redis and Jaeger with OTLP', () => {
    expect(services.postgres?.image).toBe('pgvector/pgvector:pg17');
    expect(healthcheckTest(services.postgres!)).toContain('pg_isready');
    expect(services.redis?.image).toBe('redis:7-alpine');
    expect(healthcheckTest(services.redis!)).toContain('redis-cli ping');
    expect(services.jaeger?.image).toMatch(/^jaegertracing\/all-in-one(:|$)/);
    expect(environment(services.jaeger!).COLLECTOR_OTLP_ENABLED).toBe('true');
    const jaegerPorts = (services.jaeger?.ports ?? []).map(String).join(' ');
    for (const port of [4317, 4318, 16686]) expect(jaegerPorts).toContain(`:${port}`);
  });

  it('migrates once as the superuser, after PostgreSQL is healthy, and sets the app password', () => {
    const migrate = services.migrate!;
    expect(commandLine(migrate)).toBe('node scripts/migrate.ts');
    expect(dependencies(migrate)).toEqual({ postgres: 'service_healthy' });
    const env = environment(migrate);
    expect(env.MIGRATION_DATABASE_URL).toMatch(/^postgres:\/\/postgres:.*@postgres:5432\/widgetdc$/);
    expect(env.DATABASE_APP_PASSWORD).toBe(APP_PASSWORD);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it.each(SUBGRAPH_NAMES)('runs the %s subgraph as widgetdc_app after the migration', (name) => {
    const service = services[name]!;
    const port = DEFAULT_PORTS[name];
    expect(commandLine(service)).toBe(`node subgraphs/${name}/src/index.ts`);
    expect(environment(service).DATABASE_URL).toBe(
      `postgres://widgetdc_app:${APP_PASSWORD}@postgres:5432/widgetdc`,
    );
    expect(dependencies(service).migrate).toBe('service_completed_successfully');
    expect(service.healthcheck?.test).toEqual([
      'CMD',
      'node',
      '-e',
      `fetch('http://127.0.0.1:${port}/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`,
    ]);
  });

  it('routes the gateway to the subgraph services by name once they are healthy', () => {
    const gateway = services.gateway!;
    const env = environment(gateway);
    for (const name of SUBGRAPH_NAMES) {
      expect(env[`${name.toUpperCase()}_URL`]).toBe(`http://${name}:${DEFAULT_PORTS[name]}/graphql`);
      expect(dependencies(gateway)[name]).toBe('service_healthy');
    }
    expect(healthcheckTest(gateway)).toContain(`127.0.0.1:${DEFAULT_PORTS.gateway}/ready`);
    expect((gateway.ports ?? []).map(String)).toContainEqual(expect.stringMatching(/:4000$/));
  });

  it.each(appServices)('configures %s for production, auth and telemetry', (name) => {
    const env = environment(services[name]!);
    expect(env.NODE_ENV).toBe('production');
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(env.AUTH_TENANT_IDS).toMatch(/^\$\{AUTH_TENANT_IDS:\?.+\}$/);
    expect(env.AUTH_CLIENT_ID).toMatch(/^\$\{AUTH_CLIENT_ID:\?.+\}$/);
    expect(env.AUTH_JWKS_URL).toBeUndefined();
  });

  it('builds every WidgeTDC process from the one Dockerfile image', () => {
    const images = new Set<string | undefined>();
    for (const name of ['migrate', ...appServices]) {
      const service = services[name]!;
      expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      images.add(service.image);
    }
    expect(images.size).toBe(1);
  });

  it('reports broken wiring', () => {
    const missingTarget = copy();
    missingTarget.services!.agent!.depends_on = {
      migrate: { condition: 'service_completed_successfully' },
      nope: {},
    };
    expect(checkComposeStructure(missingTarget, subgraphs, groups)).toContain(
      'service agent depends on nope, which is not a service',
    );

    const noHealthcheck = copy();
    delete noHealthcheck.services!.audit!.healthcheck;
    expect(checkComposeStructure(noHealthcheck, subgraphs, groups)).toEqual(
      expect.arrayContaining([
        'service audit has no health check',
        'service gateway waits for audit to be healthy, but audit has no health check',
      ]),
    );

    const missingSubgraph = copy();
    delete missingSubgraph.services!.governance;
    expect(checkComposeStructure(missingSubgraph, subgraphs, groups)).toEqual(
      expect.arrayContaining([
        'supergraph.yaml subgraph governance is not a docker-compose service',
        'service gateway depends on governance, which is not a service',
      ]),
    );

    const noImage = copy();
    delete noImage.services!.redis!.image;
    expect(checkComposeStructure(noImage, subgraphs, groups)).toContain(
      'service redis has neither image nor build',
    );

    const wrongPort = copy();
    wrongPort.services!.knowledge!.healthcheck = { test: ['CMD', 'true'] };
    expect(checkComposeStructure(wrongPort, subgraphs, groups)).toContain(
      `service knowledge's health check does not probe its /ready on port ${DEFAULT_PORTS.knowledge}`,
    );
  });

  it('resolves YAML merge keys as compose does', () => {
    const parsed = parseCompose(
      'x-a: &a\n  A: "1"\nservices:\n  s:\n    image: x\n    environment:\n      <<: *a\n      B: "2"\n',
    );
    expect(environment(parsed.services!.s!)).toEqual({ A: '1', B: '2' });
  });
});

describe('docker-compose.yml restarts and the audit anchor', () => {
  it('restarts every long-running service through Docker, and runs migrate once', () => {
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.restart]).toEqual([name, name === 'migrate' ? 'no' : 'unless-stopped']);
    }
  });

  it('gives the audit service its anchor key as a secret and its checkpoints a volume of its own', () => {
    const audit = services.audit!;
    expect(compose.secrets?.[AUDIT_ANCHOR_SECRET]?.file).toMatch(/^\$\{AUDIT_ANCHOR_KEY_FILE:\?.+\}$/);
    expect(secretMounts(audit)).toEqual({ [AUDIT_ANCHOR_SECRET]: '/run/secrets/audit_anchor_key' });
    expect(environment(audit)).toMatchObject({
      AUDIT_ANCHOR_KEY_FILE: '/run/secrets/audit_anchor_key',
      AUDIT_ANCHOR_DIR: '/var/lib/widgetdc/audit-anchors',
    });
    expect(volumeMounts(audit)).toEqual({ 'audit-anchors': '/var/lib/widgetdc/audit-anchors' });
    expect(compose.volumes).toHaveProperty('audit-anchors');
    for (const name of Object.keys(services).filter((n) => n !== 'audit')) {
      expect([name, secretMounts(services[name]!)]).toEqual([name, {}]);
      expect(volumeMounts(services[name]!)['audit-anchors']).toBeUndefined();
    }
  });

  it('reports a missing restart policy and a misplaced anchor key or volume', () => {
    const noRestart = copy();
    delete noRestart.services!.agent!.restart;
    noRestart.services!.migrate!.restart = 'always';
    expect(checkComposeStructure(noRestart, subgraphs, groups)).toEqual([
      'service migrate runs once: restart must be "no" or "on-failure" (got always)',
      'service agent is long-running: restart must be unless-stopped (got none)',
    ]);

    const noSecret = copy();
    delete noSecret.secrets;
    delete noSecret.services!.audit!.secrets;
    expect(checkComposeStructure(noSecret, subgraphs, groups)).toEqual([
      'there is no secret audit_anchor_key (file, environment or external) for the audit anchor key',
      'service audit must receive the secret audit_anchor_key',
    ]);

    const wrongPath = copy();
    environmentOf(wrongPath, 'audit').AUDIT_ANCHOR_KEY_FILE = '/app/.data/key.pem';
    environmentOf(wrongPath, 'audit').AUDIT_ANCHOR_DIR = '/app/.data/anchors';
    expect(checkComposeStructure(wrongPath, subgraphs, groups)).toEqual([
      'service audit must set AUDIT_ANCHOR_KEY_FILE=/run/secrets/audit_anchor_key (got /app/.data/key.pem)',
      'service audit must mount a volume at AUDIT_ANCHOR_DIR (/app/.data/anchors)',
    ]);

    const shared = copy();
    shared.services!.postgres!.volumes = [
      ...(shared.services!.postgres!.volumes ?? []),
      'audit-anchors:/anchors',
    ];
    shared.services!.gateway!.secrets = [AUDIT_ANCHOR_SECRET];
    expect(checkComposeStructure(shared, subgraphs, groups)).toEqual([
      'service postgres must not mount the audit checkpoint volume audit-anchors',
      'service gateway must not receive the audit anchor key (audit_anchor_key)',
    ]);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(resolve(ROOT_DIR, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('builds in stages on node:24-bookworm-slim and installs production dependencies only', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    // Every stage starts from the Node image or from an earlier stage of this file (backup: runtime + pg_dump).
    const stages: string[] = [];
    for (const from of froms) {
      const [, base, name] = /^FROM (\S+)(?: AS (\S+))?/.exec(from) ?? [];
      expect({
        from,
        ok: /^node:24-bookworm-slim\b/.test(base ?? '') || stages.includes(base ?? ''),
      }).toEqual({ from, ok: true });
      if (name) stages.push(name);
    }
    expect(instructions).toContain('FROM app AS backup');
    // The last stage is what `docker build .` (and every service without a target) runs.
    expect(froms.at(-1)).toBe('FROM app AS runtime');
    expect(dockerfile).toContain('npm ci --omit=dev --ignore-scripts');
  });

  it('copies everything the services, the migration and the gateway read at run time', () => {
    const copied = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    // What the compose services run, and every top-level folder those files import, transitively.
    const entries = Object.values(services).flatMap(
      (s) => /\bnode\s+(\S+\.ts)\b/.exec(commandLine(s))?.[1] ?? [],
    );
    expect(entries.length).toBeGreaterThan(subgraphs.length);
    const folders = new Set(importClosure(entries).map((file) => file.split('/')[0]!));
    for (const path of [
      ...folders,
      'migrations',
      'schema',
      'supergraph.yaml',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
    ]) {
      expect({ path, copied: copied.includes(path) }).toEqual({ path, copied: true });
    }
    expect(folders.has('kernel')).toBe(true);
    expect(instructions.some((line) => /^COPY --from=deps\b.*node_modules/.test(line))).toBe(true);
  });

  it('runs as the node user in production, with no HEALTHCHECK of its own', () => {
    const lastUser = instructions.filter((line) => line.startsWith('USER ')).at(-1);
    expect(lastUser).toBe('USER node');
    expect(dockerfile).toMatch(/NODE_ENV=production/);
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/APOLLO_TELEMETRY_DISABLED=1/);
    expect(instructions.some((line) => line.startsWith('HEALTHCHECK'))).toBe(false);
    expect(instructions.at(-1)).toMatch(/^CMD \["node", "[^"]+\.ts"\]$/);
  });

  it('keeps local state out of the build context', () => {
    const ignored = readFileSync(resolve(ROOT_DIR, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', '.data', '.git', 'coverage', '*.log'])
      expect(ignored).toContain(entry);
  });
});

const cli = findComposeCli();
if (!cli && process.env.WIDGETDC_REQUIRE_COMPOSE === '1') {
  throw new Error(
    'WIDGETDC_REQUIRE_COMPOSE=1 but neither `docker compose` nor `docker-compose` is installed',
  );
}
if (!cli) {
  // Not registered rather than skipped: without the tool there is nothing these tests could check.
  process.stderr.write(
    'compose.test.ts: no `docker compose` or `docker-compose` (apt-get install docker-compose); tool checks not run\n',
  );
}

(cli ? describe : () => {})(`compose tool (${cli?.command ?? 'absent'})`, () => {
  const defaults = {
    WIDGETDC_APP_PASSWORD: undefined,
    POSTGRES_PASSWORD: undefined,
  };

  it('validates docker-compose.yml (config -q exits 0)', () => {
    const run = runComposeConfig(cli!, ['-q'], defaults);
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  });

  it('refuses to run without the audit anchor key', () => {
    const run = runComposeConfig(cli!, ['-q'], { ...defaults, AUDIT_ANCHOR_KEY_FILE: undefined });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('AUDIT_ANCHOR_KEY_FILE');
  });

  it('refuses to run without the identity provider settings', () => {
    const run = runComposeConfig(cli!, ['-q'], { ...defaults, AUTH_TENANT_IDS: undefined });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('AUTH_TENANT_IDS');
  });

  it('interpolates the shared environment into every service', () => {
    const run = runComposeConfig(cli!, [], {
      ...defaults,
      AUTH_TENANT_IDS: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AUTH_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    });
    expect(run.status).toBe(0);
    const resolved = parseCompose(run.stdout).services ?? {};
    for (const name of SUBGRAPH_NAMES) {
      const env = environment(resolved[name]!);
      expect(env.DATABASE_URL).toBe('postgres://widgetdc_app:change-me@postgres:5432/widgetdc');
      expect(env.AUTH_TENANT_IDS).toBe('72f988bf-86f1-41af-91ab-2d7cd011db47');
      expect(env.AUTH_CLIENT_ID).toBe('11111111-2222-3333-4444-555555555555');
      expect(env.OTEL_SERVICE_NAME).toBe(name);
    }
    const migrate = environment(resolved.migrate!);
    expect(migrate.MIGRATION_DATABASE_URL).toBe('postgres://postgres:postgres@postgres:5432/widgetdc');
    expect(migrate.DATABASE_APP_PASSWORD).toBe('change-me');
    expect(environment(resolved.gateway!).AGENT_URL).toBe(`http://agent:${DEFAULT_PORTS.agent}/graphql`);
    // The workers and the gateway's live fan-out read the event bus on Redis.
    for (const name of [...workers, 'gateway']) {
      const env = environment(resolved[name]!);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.DATABASE_URL).toBe('postgres://widgetdc_app:change-me@postgres:5432/widgetdc');
    }
    for (const group of groups) {
      const worker = resolved[workerService(group)]!;
      expect(commandLine(worker)).toMatch(
        new RegExp(`^node scripts/worker\\.ts --group ${group} --concurrency \\d+$`),
      );
      expect(environment(worker).OTEL_SERVICE_NAME).toBe(workerService(group));
      expect(dependencies(worker)).toMatchObject({
        migrate: 'service_completed_successfully',
        redis: 'service_healthy',
      });
    }
    expect(commandLine(resolved['worker-knowledge-ingest']!)).toContain('--concurrency 5');
  });
});
