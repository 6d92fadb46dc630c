// askStream through the gateway with a real graphql-ws client: the knowledge subgraph's own
// subscription (GraphQL over SSE between them, ADR 0031), answered by the offline answerer sentence
// by sentence, then the whole answer with its citations; tenants, roles and bad input.
import { sseEvents } from '#kernel/http/sse.ts';
import { CORPUS } from '../../../subgraphs/knowledge/test/fixtures/corpus.ts';
import { type AskStreamEvent, askStreamClient } from '../support/ask-stream.ts';
import { type KnowledgePlatform, startKnowledgePlatform } from '../support/knowledge-platform.ts';

const ASK_STREAM = `subscription Ask($q: String!, $filter: SearchFilter) {
  askStream(question: $q, filter: $filter) {
    __typename
    ... on AnswerPiece { text }
    ... on Answer {
      text model unanswered traceId
      citations { n quote chunk { id text } document { id title } }
      timings { stage ms }
    }
  }
}`;

let knowledge: KnowledgePlatform;
let alice: string;
let bob: string;
const acmeIds: string[] = [];
let globexId = '';

beforeAll(async () => {
  knowledge = await startKnowledgePlatform();
  alice = await knowledge.platform.issuer.token('acme', 'alice', ['Reader', 'Contributor']);
  bob = await knowledge.platform.issuer.token('globex', 'bob', ['Reader', 'Contributor']);
  for (const doc of CORPUS.filter((d) => ['postgres', 'redis'].includes(d.key))) {
    acmeIds.push(await knowledge.ingest(alice, { title: doc.title, text: doc.text }));
  }
  globexId = await knowledge.ingest(bob, {
    title: 'Globex database notes',
    text: 'Globex runs its PostgreSQL server on port 6543 by default.',
  });
}, 180_000);
afterAll(async () => {
  await knowledge?.close();
});

function clientOf(token: string) {
  return askStreamClient(knowledge.platform.gateway.wsUrl, token);
}

/** Every result of one askStream until it completes. */
async function stream(token: string, q: string, filter?: Record<string, unknown>) {
  const client = clientOf(token);
  try {
    const results: {
      data?: { askStream: AskStreamEvent } | null;
      errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
    }[] = [];
    for await (const result of client.iterate<{ askStream: AskStreamEvent }>({
      query: ASK_STREAM,
      variables: { q, ...(filter ? { filter } : {}) },
    })) {
      results.push(result as (typeof results)[number]);
    }
    return results;
  } finally {
    await client.dispose();
  }
}

describe('askStream through the gateway (offline answerer)', () => {
  it('streams the answer sentence by sentence, then the whole answer with its citations, and ends', async () => {
    const results = await stream(alice, 'What is the default port of the PostgreSQL server?');
    for (const r of results) expect(r.errors).toBeUndefined();
    const events = results.map((r) => r.data!.askStream);
    const answer = events.at(-1)!;
    const pieces = events.slice(0, -1);
    expect(answer.__typename).toBe('Answer');
    expect(pieces.length).toBeGreaterThan(0);
    for (const piece of pieces) expect(piece.__typename).toBe('AnswerPiece');
    // Each piece is one cited sentence; joined, they are the answer's text.
    expect(pieces.map((p) => p.text).join('')).toBe(answer.text);
    expect(pieces.length).toBe(answer.citations!.length);
    expect(answer).toMatchObject({ model: 'offline-extractive', unanswered: false });
    expect(answer.citations![0]).toMatchObject({
      quote: 'The server listens on TCP port 5432 by default.',
      document: { id: acmeIds[0], title: 'PostgreSQL connection settings' },
    });
    for (const [i, c] of answer.citations!.entries()) {
      expect(c.chunk.text).toContain(c.quote);
      expect(pieces[i]!.text.trim()).toBe(`${c.quote} [${c.n}]`);
    }
    expect(answer.timings!.map((t) => t.stage)).toContain('generation');
  });

  it('streams each tenant only its own documents while both ask at once', async () => {
    const question = 'What is the default port of the PostgreSQL server?';
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? 'bob' : 'alice')).map(async (who) => ({
        who,
        results: await stream(who === 'bob' ? bob : alice, question),
      })),
    );
    for (const { who, results } of runs) {
      const events = results.map((r) => r.data!.askStream);
      const text = events.map((e) => e.text).join('\n');
      const answer = events.at(-1)!;
      const cited = answer.citations!.map((c) => c.document.id);
      expect(cited.length).toBeGreaterThan(0);
      if (who === 'bob') {
        expect(cited.every((id) => id === globexId)).toBe(true);
        expect(text).not.toContain('5432');
      } else {
        expect(cited.every((id) => acmeIds.includes(id))).toBe(true);
        expect(text).not.toContain('6543');
      }
    }
  });

  it('says plainly when the documents do not answer, in one piece', async () => {
    const results = await stream(alice, 'How do I bake sourdough bread?');
    const events = results.map((r) => r.data!.askStream);
    expect(events.map((e) => e.__typename)).toEqual(['AnswerPiece', 'Answer']);
    expect(events[1]).toMatchObject({ unanswered: true, citations: [], text: events[0]!.text });
  });

  it('refuses a bad question with a clear GraphQL error, and the connection serves the next one', async () => {
    const client = clientOf(alice);
    try {
      for (const [q, got] of [
        ['', '0 after trimming'],
        ['x'.repeat(1001), '1001'],
      ] as const) {
        const results = [];
        for await (const r of client.iterate({ query: ASK_STREAM, variables: { q } })) results.push(r);
        expect(results).toHaveLength(1);
        expect(results[0]!.errors?.[0]).toMatchObject({
          message: `question must be 1 to 1000 characters (got ${got})`,
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      const after = [];
      for await (const r of client.iterate<{ askStream: AskStreamEvent }>({
        query: ASK_STREAM,
        variables: { q: 'Which file controls PostgreSQL client authentication?' },
      }))
        after.push(r);
      expect(after.at(-1)!.data!.askStream.citations![0]!.quote).toContain('pg_hba.conf');
    } finally {
      await client.dispose();
    }
  });

  it('checks the caller’s roles as ask does (FORBIDDEN naming them)', async () => {
    const auditor = await knowledge.platform.issuer.token('acme', 'audrey', ['Auditor']);
    const results = await stream(auditor, 'What is the default port of the PostgreSQL server?');
    expect(results).toHaveLength(1);
    expect(results[0]!.data ?? null).toBeNull();
    expect(results[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(results[0]!.errors?.[0]?.message).toContain('Subscription.askStream');
    // The denial is in the tenant's audit log, as a denied query's is.
    const denied = await knowledge.platform.db.asSuperuser<{ actor_id: string }>(
      "select actor_id from audit.audit_events where action = 'knowledge.askStream' and outcome = 'denied'",
    );
    expect(denied).toHaveLength(1);
  });

  it('is served by the knowledge subgraph as GraphQL over SSE, refusing what is not a subscription', async () => {
    const streamUrl = new URL('/graphql/stream', knowledge.platform.subgraphs.knowledge.url);
    const post = (body: unknown, token?: string) =>
      fetch(streamUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const ask = { query: ASK_STREAM, variables: { q: 'What is the default port of the PostgreSQL server?' } };
    const refused = async (res: Response) => ({
      status: res.status,
      error: ((await res.json()) as { errors: { message: string; extensions: { code: string } }[] })
        .errors[0],
    });
    expect(await refused(await post(ask))).toMatchObject({
      status: 401,
      error: { extensions: { code: 'UNAUTHENTICATED' } },
    });
    expect(await refused(await post({ query: '{ __typename }' }, alice))).toMatchObject({
      status: 400,
      error: { message: '/graphql/stream serves subscriptions only; send queries to /graphql' },
    });
    expect(await refused(await post({ query: 'subscription { askStream { text } }' }, alice))).toMatchObject({
      status: 400,
      error: { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    });
    expect((await fetch(streamUrl)).status).toBe(405);
    // The operation limits of /graphql apply (zero trust: the caller may not be the gateway).
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: text`).join(' ');
    expect(
      await refused(
        await post(
          { query: `subscription { askStream(question: "port?") { ... on AnswerPiece { ${aliases} } } }` },
          alice,
        ),
      ),
    ).toMatchObject({ status: 400, error: { extensions: { code: 'TOO_MANY_ALIASES' } } });
    // The protocol: `next` events, then `complete`.
    const res = await post(ask, alice);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const names: string[] = [];
    for await (const event of sseEvents(res.body!)) names.push(event.event);
    expect(names.at(-1)).toBe('complete');
    expect(names.slice(0, -1).every((n) => n === 'next')).toBe(true);
    expect(names.length).toBeGreaterThan(2);
    // Sent to /graphql as a plain request, the field says where subscriptions are served.
    const plain = await fetch(knowledge.platform.subgraphs.knowledge.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify(ask),
    });
    const body = (await plain.json()) as { errors?: { message: string; extensions: { code: string } }[] };
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(body.errors?.[0]?.message).toContain('/graphql/stream');
  });
});
