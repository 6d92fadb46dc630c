import type { Identity } from '#kernel/auth/identity.ts';
import { MAX_PAGE_SIZE } from '#kernel/graphql/connection.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { agentSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let agent: SubgraphHarness;
let alice: Identity;
let mallory: Identity;

const CREATE =
  'mutation ($title: String!) { createTask(input: { title: $title }) { id title status createdBy createdAt } }';
const LIST =
  'query ($first: Int, $after: String) { tasks(first: $first, after: $after) { edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }';

const create = async (who: Identity, title: string) => {
  const result = await agent.execute(who, CREATE, { title });
  return (result.data?.createTask ?? null) as { id: string; title: string } | null;
};

beforeAll(async () => {
  db = await createTestDatabase();
  agent = await createSubgraphHarness(agentSubgraph, db);
  alice = await agent.identity('acme', 'alice');
  mallory = await agent.identity('umbrella', 'mallory');
});
afterAll(async () => {
  await agent?.close();
  await db?.close();
});

describe('agent subgraph: tasks', () => {
  it('creates a PENDING task owned by the caller, with the title trimmed', async () => {
    const result = await agent.execute(alice, CREATE, { title: '  Draft the onboarding memo  ' });
    expect(result.errors).toBeUndefined();
    expect(result.data?.createTask).toMatchObject({
      title: 'Draft the onboarding memo',
      status: 'PENDING',
      createdBy: 'alice@acme',
    });
    const created = result.data?.createTask as { createdAt: string } | undefined;
    expect(Date.parse(created?.createdAt ?? '')).not.toBeNaN();
  });

  it.each([
    ['', 'title must not be empty'],
    ['   ', 'title must not be empty'],
    ['x'.repeat(501), 'title must be at most 500 characters (got 501)'],
  ])('refuses the title %j with BAD_USER_INPUT and stores nothing', async (title, message) => {
    const before = await agent.execute(alice, LIST, { first: MAX_PAGE_SIZE });
    const result = await agent.execute(alice, CREATE, { title });
    expect(result.errors?.[0]).toMatchObject({
      message,
      extensions: { code: 'BAD_USER_INPUT', field: 'title' },
    });
    expect(await agent.execute(alice, LIST, { first: MAX_PAGE_SIZE })).toEqual(before);
  });

  it('pages newest first with opaque cursors and no overlap', async () => {
    const titles = ['first', 'second', 'third'];
    for (const title of titles) await create(mallory, title);
    const page1 = (await agent.execute(mallory, LIST, { first: 2 })).data?.tasks as {
      edges: { node: { title: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    expect(page1.edges.map((e) => e.node.title)).toEqual(['third', 'second']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await agent.execute(mallory, LIST, { first: 2, after: page1.pageInfo.endCursor })).data
      ?.tasks as typeof page1;
    expect(page2.edges.map((e) => e.node.title)).toEqual(['first']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a page larger than the maximum', async () => {
    const result = await agent.execute(alice, LIST, { first: MAX_PAGE_SIZE + 1 });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
  });

  it("never returns another tenant's task, by id or through _entities", async () => {
    const secret = await create(alice, 'acme secret');
    const byId = await agent.execute(mallory, 'query ($id: ID!) { task(id: $id) { id title } }', {
      id: secret!.id,
    });
    expect(byId).toEqual({ data: { task: null } });
    const entities = await agent.execute(
      mallory,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Task { id title } } }',
      { r: [{ __typename: 'Task', id: secret!.id }] },
    );
    expect(entities).toEqual({ data: { _entities: [null] } });
    const list = (await agent.execute(mallory, LIST, { first: MAX_PAGE_SIZE })).data?.tasks as {
      edges: { node: { title: string } }[];
    };
    expect(list.edges.map((e) => e.node.title)).not.toContain('acme secret');
  });

  it('resolves its own tasks through _entities for the gateway', async () => {
    const task = await create(alice, 'resolvable');
    const result = await agent.execute(
      alice,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Task { id title status } } }',
      { r: [{ __typename: 'Task', id: task!.id }] },
    );
    expect(result).toEqual({
      data: { _entities: [{ id: task!.id, title: 'resolvable', status: 'PENDING' }] },
    });
  });

  it('answers a malformed id with BAD_USER_INPUT instead of a database error', async () => {
    const result = await agent.execute(alice, 'query { task(id: "1 or 1=1") { id } }');
    expect(result.errors?.[0]).toMatchObject({
      message: 'id must be a UUID (got "1 or 1=1")',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('agent subgraph: cancelling', () => {
  const CANCEL = 'mutation ($id: ID!) { cancelTask(id: $id) { id status } }';

  it('cancels an unfinished task once; a second cancel is a conflict', async () => {
    const task = await create(alice, 'Cancel me');
    expect((await agent.execute(alice, CANCEL, { id: task?.id })).data).toEqual({
      cancelTask: { id: task?.id, status: 'CANCELLED' },
    });
    const again = await agent.execute(alice, CANCEL, { id: task?.id });
    expect(again.errors?.[0]).toMatchObject({
      message: `Task ${task?.id} is CANCELLED and cannot become CANCELLED`,
      extensions: { code: 'CONFLICT' },
    });
  });

  it("cannot cancel another tenant's task, and says it does not exist", async () => {
    const task = await create(alice, 'Not yours');
    const result = await agent.execute(mallory, CANCEL, { id: task?.id });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect((await agent.execute(alice, `{ task(id: "${task?.id}") { status } }`)).data).toEqual({
      task: { status: 'PENDING' },
    });
  });

  it('refuses readers', async () => {
    const task = await create(alice, 'Read only');
    const reader = await agent.identity('acme', 'rita', ['Reader']);
    const result = await agent.execute(reader, CANCEL, { id: task?.id });
    expect(result.errors?.[0]?.message).toBe(
      'Mutation.cancelTask requires one of the roles Contributor, Admin; the caller has Reader',
    );
  });
});
