// Jest runs every suite once per database kind: the embedded PGlite always, the native
// PostgreSQL (with pgvector) when one is reachable, and a pgvector container when a Docker
// engine exists. CI sets WIDGETDC_REQUIRE_NATIVE_PG=1 so a missing native server fails the run.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import pg from 'pg';

const NATIVE_URL = process.env.WIDGETDC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function nativePostgres() {
  const client = new pg.Client({ connectionString: NATIVE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query(
      "select current_setting('server_version_num')::int as version, exists (select 1 from pg_available_extensions where name = 'vector') as vector",
    );
    if (!rows[0].vector) return `PostgreSQL at ${NATIVE_URL} has no pgvector (run .ci/install-pgvector.sh)`;
    return true;
  } catch (error) {
    return `no PostgreSQL at ${NATIVE_URL} (${error.message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

function dockerEngine() {
  const socket = process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock';
  if (!existsSync(socket)) return Promise.resolve(`no Docker engine (${socket} does not exist)`);
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : `Docker engine answered ${res.statusCode}`);
    });
    req.on('error', (error) => resolve(`no Docker engine (${error.message})`));
    req.end();
  });
}

const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023', keepClassNames: true },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: {
    '^#kernel/(.*)$': '<rootDir>/kernel/src/$1',
    '^#testing/(.*)$': '<rootDir>/testing/$1',
    '^#events/(.*)$': '<rootDir>/events/src/$1',
    '^#contracts/(.*)$': '<rootDir>/contracts/src/$1',
    '^#llm/(.*)$': '<rootDir>/llm/src/$1',
  },
  testMatch: [
    '<rootDir>/{kernel,events,contracts,gateway,subgraphs,llm,console}/**/test/**/*.test.ts',
    '<rootDir>/scripts/test/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
    '<rootDir>/eval/test/**/*.test.ts',
    '<rootDir>/deploy/test/**/*.test.ts',
  ],
};

const project = (kind) => ({ ...base, displayName: kind, globals: { WIDGETDC_TEST_DB: kind } });

export default async () => {
  const projects = [project('pglite')];
  const native = await nativePostgres();
  if (native === true) projects.push(project('postgres'));
  else if (process.env.WIDGETDC_REQUIRE_NATIVE_PG === '1')
    throw new Error(`native PostgreSQL required: ${native}`);
  else process.stderr.write(`jest: the "postgres" project does not run: ${native}\n`);
  const docker = await dockerEngine();
  if (docker === true) projects.push(project('container'));
  else
    process.stderr.write(
      `jest: the "container" project (testcontainers, pgvector image) does not run: ${docker}\n`,
    );
  return {
    projects,
    testTimeout: 120_000,
    maxWorkers: process.env.CI ? 2 : '50%',
    // The attack suite's "N attacks, 0 leaks" line (silent when no attack ran).
    reporters: ['default', '<rootDir>/gateway/test/security/support/attack-reporter.js'],
  };
};
