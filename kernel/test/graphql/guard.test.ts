import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Identity } from '#kernel/auth/identity.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

// A throwaway subgraph: one declared and one undeclared query, and mutations that write a task row
// (raw SQL on agent.tasks) and then succeed, fail, or are refused.
const SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
directive @requiresRole(anyOf: [String!]!) repeatable on FIELD_DEFINITION | OBJECT
type Thing @key(fields: "id") @requiresRole(anyOf: ["Reader"]) { id: ID! }
type Secret @key(fields: "id") { id: ID! }
type Query {
  declared: Int @requiresRole(anyOf: ["Reader", "Auditor"])
  undeclared: Int
}
type Mutation {
  write(title: String!, secret: String): Thing! @requiresRole(anyOf: ["Contributor"])
  writeThenFail(title: String!): Thing! @requiresRole(anyOf: ["Contributor"])
  writeTwice(title: String!): Thing! @requiresRole(anyOf: ["Contributor"])
}`;

async function insertTask(ctx: RequestContext, title: string): Promise<{ id: string }> {
  return ctx.db.run(async (em) => {
    const id = randomUUID();
    await em.execute(
      `insert into agent.tasks (id, tenant_id, title, status, created_by, created_by_name, created_at, updated_at)
       values (?, ?, ?, 'PENDING', ?, 'x', now(), now())`,
      [id, ctx.db.tenantId, title, ctx.identity.subjectId],
    );
    return { id };
  });
}

const resolvers = {
  Query: { declared: () => 42, undeclared: () => 7 },
  Thing: { __resolveReference: (ref: { id: string }) => ref },
  Secret: { __resolveReference: (ref: { id: string }) => ref },
  Mutation: {
    write: (_: unknown, args: { title: string }, ctx: RequestContext) => insertTask(ctx, args.title),
    writeThenFail: (_: unknown, args: { title: string }, ctx: RequestContext) =>
      ctx.db.run(async (em) => {
        const id = randomUUID();
        await em.execute(
          `insert into agent.tasks (id, tenant_id, title, status, created_by, created_by_name, created_at, updated_at)
           values (?, ?, ?, 'PENDING', ?, 'x', now(), now())`,
          [id, ctx.db.tenantId, args.title, ctx.identity.subjectId],
        );
        throw new Error('boom after the write');
      }),
    writeTwice: async (_: unknown, args: { title: string }, ctx: RequestContext) => {
      await insertTask(ctx, args.title);
      return insertTask(ctx, `${args.title} again`);
    },
  },
};

let dir: string;
let db: TestDatabase;
let harness: SubgraphHarness;
let contributor: Identity;
let reader: Identity;

const titles = async (title: string) =>
  db.asSuperuser<{ title: string }>('select title from agent.tasks where title like $1 order by title', [
    `${title}%`,
  ]);
const audits = async (action: string) =>
  db.asSuperuser<{ outcome: string; actor: string; target_id: string | null; input_summary: unknown }>(
    'select outcome, actor, target_id, input_summary from audit.audit_events where action = $1 order by seq',
    [action],
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wtdc-guard-'));
  await writeFile(join(dir, 'schema.graphql'), SDL);
  const definition: SubgraphDefinition = {
    name: 'agent',
    schema: pathToFileURL(join(dir, 'schema.graphql')),
    resolvers: resolvers as unknown as SubgraphDefinition['resolvers'],
    entities: [],
  };
  db = await createTestDatabase();
  harness = await createSubgraphHarness(definition, db);
  contributor = await harness.identity('acme', 'carl', ['Contributor']);
  reader = await harness.identity('acme', 'rita', ['Reader']);
});
afterAll(async () => {
  await harness?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('role guard', () => {
  it('lets a caller with one of the declared roles through', async () => {
    expect(await harness.execute(reader, '{ declared }')).toEqual({ data: { declared: 42 } });
  });

  it('refuses a caller without the role, naming the roles needed and the roles held', async () => {
    const result = await harness.execute(contributor, '{ declared }');
    expect(result.errors?.[0]).toMatchObject({
      message: 'Query.declared requires one of the roles Reader, Auditor; the caller has Contributor',
      extensions: { code: 'FORBIDDEN', requiredRoles: ['Reader', 'Auditor'] },
    });
    expect((await audits('agent.declared')).map((a) => [a.outcome, a.actor])).toEqual([
      ['denied', 'carl@acme'],
    ]);
  });

  it('denies everyone an operation that declares no role', async () => {
    const result = await harness.execute(
      await harness.identity('acme', 'root', ['Admin', 'Reader']),
      '{ undeclared }',
    );
    expect(result.errors?.[0]?.message).toBe(
      'Query.undeclared declares no @requiresRole requirement, so it is denied to everyone',
    );
    expect(result.data).toEqual({ undeclared: null });
  });

  it('checks entity types resolved through _entities', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
    expect(await harness.execute(reader, query, { r: [{ __typename: 'Thing', id: '1' }] })).toEqual({
      data: { _entities: [{ __typename: 'Thing' }] },
    });
    const noRole = await harness.execute(contributor, query, { r: [{ __typename: 'Thing', id: '1' }] });
    expect(noRole.errors?.[0]?.message).toBe(
      'Resolving Thing entities requires the role Reader; the caller has Contributor',
    );
    const undeclared = await harness.execute(reader, query, { r: [{ __typename: 'Secret', id: '1' }] });
    expect(undeclared.errors?.[0]?.message).toBe(
      'Entity Secret declares no @requiresRole requirement, so it is denied',
    );
  });
});

describe('audited mutations', () => {
  it('commits the change and its success record together, with the input redacted', async () => {
    const result = await harness.execute(
      contributor,
      'mutation { write(title: "audited-ok", secret: "s3cr3t") { id } }',
    );
    const id = (result.data!.write as { id: string }).id;
    expect(await titles('audited-ok')).toEqual([{ title: 'audited-ok' }]);
    expect(await audits('agent.write')).toEqual([
      {
        outcome: 'success',
        actor: 'carl@acme',
        target_id: id,
        input_summary: { title: 'audited-ok', secret: '[redacted]' },
      },
    ]);
  });

  it('rolls the change back when the mutation fails and records the failure', async () => {
    const result = await harness.execute(
      contributor,
      'mutation { writeThenFail(title: "audited-fail") { id } }',
    );
    expect(result.errors?.[0]?.message).toBe('Internal server error');
    expect(await titles('audited-fail')).toEqual([]);
    expect(await audits('agent.writeThenFail')).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        input_summary: { title: 'audited-fail', _error: 'INTERNAL_SERVER_ERROR' },
      }),
    ]);
  });

  it('rolls the change back when its audit record cannot be written', async () => {
    await db.asSuperuser('revoke insert on audit.audit_events from widgetdc_app');
    try {
      const result = await harness.execute(
        contributor,
        'mutation { write(title: "audited-unrecordable") { id } }',
      );
      expect(result.errors?.[0]?.message).toBe('Internal server error');
    } finally {
      await db.asSuperuser('grant insert on audit.audit_events to widgetdc_app');
    }
    expect(await titles('audited-unrecordable')).toEqual([]);
  });

  it('joins every transaction a mutation opens into one, with one record', async () => {
    const result = await harness.execute(
      contributor,
      'mutation { writeTwice(title: "audited-twice") { id } }',
    );
    expect(result.errors).toBeUndefined();
    expect(await titles('audited-twice')).toEqual([
      { title: 'audited-twice' },
      { title: 'audited-twice again' },
    ]);
    expect(await audits('agent.writeTwice')).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });

  it('refuses NUL characters in any argument with a clear message, before running anything', async () => {
    const result = await harness.execute(contributor, 'mutation ($t: String!) { write(title: $t) { id } }', {
      t: 'nul\u0000here',
    });
    expect(result.errors?.[0]).toMatchObject({
      message: 'write.title contains a NUL character (U+0000), which is not allowed',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await titles('nul')).toEqual([]);
  });

  it('records a refused mutation as denied without running it', async () => {
    const result = await harness.execute(reader, 'mutation { write(title: "audited-denied") { id } }');
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await titles('audited-denied')).toEqual([]);
    expect((await audits('agent.write')).at(-1)).toMatchObject({ outcome: 'denied', actor: 'rita@acme' });
  });
});
