import { randomUUID } from 'node:crypto';
import { PostgresStreamTransport } from '#events/transport/postgres-transport.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { governanceSubgraph } from '../src/subgraph.ts';

/** The event-bus administration needs no task lookups. */
const NO_TASKS = { tasks: { exists: async () => false } };

const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOPIC = 'task.created';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe.each(['postgres', 'redis'] as const)(
  'event bus administration over GraphQL (%s transport)',
  (kind) => {
    let transport: StreamTransport;
    let governance: SubgraphHarness;
    let adminA: Identity;
    let adminB: Identity;
    let operator: Identity;
    let readerA: Identity;
    const letters: Record<string, string> = {};

    /** Appends an event of `tenantId` and dead-letters it for the group `g`, returning the dead letter's id. */
    async function deadLetterOf(tenantId: string, error: string): Promise<string> {
      const body = JSON.stringify({ id: randomUUID(), type: TOPIC, tenantId });
      await transport.append([{ stream: TOPIC, tenantId, body }]);
      const [delivery] = await transport.read('g', 'c1', [TOPIC], 1, 100);
      if (!delivery) throw new Error('nothing delivered');
      await transport.deadLetter(delivery, { group: 'g', consumer: 'c1', error, attempts: 3, tenantId });
      const listed = await transport.listDeadLetters({ stream: TOPIC, tenantId, limit: 500 });
      return listed.at(-1)!.id;
    }

    const LIST = `query ($topic: String!) { deadLetters(topic: $topic) { items { id topic group eventType error attempts consumer event } nextAfter } }`;

    beforeAll(async () => {
      const prefix = `wtdc-test:${randomUUID().slice(0, 8)}:`;
      transport =
        kind === 'redis'
          ? new RedisStreamTransport({ url: REDIS_URL, prefix })
          : new PostgresStreamTransport({ url: db.appUrl, prefix, pollMs: 20 });
      const probe = await createSubgraphHarness(governanceSubgraph(NO_TASKS), db);
      const ops = await probe.identity(`ops-${kind}`, 'olga', ['Admin']);
      await probe.close();
      governance = await createSubgraphHarness(governanceSubgraph({ ...NO_TASKS, events: transport }), db, {
        operatorTenantIds: [ops.tenantId],
      });
      operator = ops;
      adminA = await governance.identity(`acme-${kind}`, 'ada', ['Admin']);
      readerA = await governance.identity(`acme-${kind}`, 'rita', ['Reader']);
      adminB = await governance.identity(`umbrella-${kind}`, 'mallory', ['Admin']);
      await transport.ensureGroup(TOPIC, 'g');
      letters.a = await deadLetterOf(adminA.tenantId, 'boom for acme');
      letters.b = await deadLetterOf(adminB.tenantId, 'boom for umbrella');
    });
    afterAll(async () => {
      await governance?.close();
      await transport?.close();
    });

    it("shows a tenant's Admin only that tenant's dead letters", async () => {
      const result = await governance.execute(adminA, LIST, { topic: TOPIC });
      const items = (result.data!.deadLetters as { items: { id: string; error: string; event: string }[] })
        .items;
      expect(items.map((i) => [i.id, i.error])).toEqual([[letters.a, 'boom for acme']]);
      expect(JSON.stringify(result)).not.toContain('umbrella');
      expect(
        await governance.execute(adminA, `{ deadLetter(topic: "${TOPIC}", id: "${letters.b}") { id } }`),
      ).toEqual({
        data: { deadLetter: null },
      });
    });

    it("refuses replaying or discarding another tenant's dead letter", async () => {
      for (const op of ['replayDeadLetter', 'discardDeadLetter']) {
        const result = await governance.execute(
          adminA,
          `mutation { ${op}(topic: "${TOPIC}", id: "${letters.b}") }`,
        );
        expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      }
      const operatorView = await governance.execute(operator, LIST, { topic: TOPIC });
      expect((operatorView.data!.deadLetters as { items: unknown[] }).items).toHaveLength(2);
    });

    it('gives stream statistics to platform operators only', async () => {
      const refused = await governance.execute(adminA, '{ eventStreams { topic } }');
      expect(refused.errors?.[0]?.message).toMatch(/only Admins of a platform operator tenant/);
      const stats = await governance.execute(
        operator,
        '{ eventStreams { topic group length pending lag deadLetters } }',
      );
      expect(stats.data?.eventStreams).toContainEqual({
        topic: TOPIC,
        group: 'g',
        length: 2,
        pending: 0,
        lag: 0,
        deadLetters: 2,
      });
    });

    it('replays a dead letter onto its topic and records who did it', async () => {
      const replayed = await governance.execute(
        adminA,
        `mutation { replayDeadLetter(topic: "${TOPIC}", id: "${letters.a}") }`,
      );
      expect(typeof replayed.data?.replayDeadLetter).toBe('string');
      const [delivery] = await transport.read('g', 'c2', [TOPIC], 1, 100);
      expect(JSON.parse(delivery!.body)).toMatchObject({ tenantId: adminA.tenantId });
      const after = await governance.execute(adminA, LIST, { topic: TOPIC });
      expect((after.data!.deadLetters as { items: unknown[] }).items).toEqual([]);
      const audit = await db.asSuperuser<{ actor_id: string; outcome: string }>(
        "select actor_id, outcome from audit.audit_events where action = 'governance.replayDeadLetter' and tenant_id = $1 order by seq",
        [adminA.tenantId],
      );
      // The earlier refused attempt on the other tenant's letter is recorded too.
      expect(audit).toEqual([
        { actor_id: adminA.subjectId, outcome: 'failed' },
        { actor_id: adminA.subjectId, outcome: 'success' },
      ]);
    });

    it('discards as the operator, refuses readers, and names an unknown topic', async () => {
      const discarded = await governance.execute(
        operator,
        `mutation { discardDeadLetter(topic: "${TOPIC}", id: "${letters.b}") }`,
      );
      expect(discarded.data).toEqual({ discardDeadLetter: true });
      const reader = await governance.execute(readerA, LIST, { topic: TOPIC });
      expect(reader.errors?.[0]?.message).toBe(
        'Query.deadLetters requires the role Admin; the caller has Reader',
      );
      const unknown = await governance.execute(adminA, LIST, { topic: 'nope' });
      // The bus knows the streams it has (this test's own prefix holds only one).
      expect(unknown.errors?.[0]?.message).toBe(`unknown topic "nope"; known topics: ${TOPIC}`);
    });
  },
);
