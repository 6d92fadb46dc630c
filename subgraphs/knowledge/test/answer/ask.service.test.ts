import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Identity } from '#kernel/auth/identity.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { ANSWER_STAGES } from '../../src/answer/ask.service.ts';
import { NO_ANSWER } from '../../src/answer/offline-answerer.ts';
import { CORPUS } from '../fixtures/corpus.ts';
import { useIngestSuite } from '../support.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
beforeAll(() => {
  telemetry = startTelemetry({
    serviceName: 'test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    instrumentations: [],
  });
});
afterAll(() => telemetry?.shutdown());

const suite = useIngestSuite();

const ANSWER = `text model unanswered traceId usage { promptTokens completionTokens } timings { stage ms }
  citations { n quote chunk { id text headingPath document { id } } document { id title } }`;

interface Answer {
  text: string;
  model: string;
  unanswered: boolean;
  traceId: string | null;
  usage: { promptTokens: number; completionTokens: number };
  timings: { stage: string; ms: number }[];
  citations: {
    n: number;
    quote: string;
    chunk: { id: string; text: string; document: { id: string } };
    document: { id: string; title: string };
  }[];
}

let alice: Identity;
let bob: Identity;
const ids: Record<string, string> = {};
const bobIds: string[] = [];

async function ask(who: Identity, question: string, filter?: Record<string, unknown>) {
  const result = await suite.knowledge.execute(
    who,
    `query ($q: String!, $filter: SearchFilter) { ask(question: $q, filter: $filter) { ${ANSWER} } }`,
    { q: question, filter },
  );
  return { answer: result.data?.ask as Answer | undefined, errors: result.errors };
}

async function answer(who: Identity, question: string, filter?: Record<string, unknown>) {
  const { answer, errors } = await ask(who, question, filter);
  expect(errors).toBeUndefined();
  return answer!;
}

beforeAll(async () => {
  alice = await suite.identity('acme', 'alice', ['Reader', 'Contributor']);
  bob = await suite.identity('globex', 'bob', ['Reader', 'Contributor']);
  for (const { key, ...input } of CORPUS) ids[key] = await suite.ingest(alice, input);
  bobIds.push(
    await suite.ingest(bob, {
      title: 'Globex database notes',
      text: 'Globex runs its PostgreSQL server on port 6543 by default.',
    }),
  );
  for (const id of Object.values(ids)) expect((await suite.finished(alice, id)).status).toBe('READY');
  expect((await suite.finished(bob, bobIds[0]!)).status).toBe('READY');
}, 120_000);

describe('ask', () => {
  it('answers with cited, exact quotes of the retrieved chunks, and reports each stage', async () => {
    exporter.reset();
    const a = await answer(alice, 'What is the default port of the PostgreSQL server?');
    expect(a.unanswered).toBe(false);
    expect(a.model).toBe('offline-extractive');
    expect(a.citations.length).toBeGreaterThan(0);
    const first = a.citations[0]!;
    expect(first.quote).toBe('The server listens on TCP port 5432 by default.');
    expect(first.document).toEqual({ id: ids.postgres, title: 'PostgreSQL connection settings' });
    for (const c of a.citations) {
      expect(c.chunk.text).toContain(c.quote);
      expect(c.chunk.document.id).toBe(c.document.id);
      expect(a.text).toContain(`${c.quote} [${c.n}]`);
    }
    expect(a.usage.completionTokens).toBeGreaterThan(0);
    expect(a.timings.map((t) => t.stage)).toEqual([...ANSWER_STAGES, 'total']);
    const total = a.timings.at(-1)!.ms;
    for (const t of a.timings) {
      expect(t.ms).toBeGreaterThan(0);
      expect(t.ms).toBeLessThanOrEqual(total);
    }
    // The timings are the spans': one root span per answer, a child per stage, in its trace (and the
    // query's embedding call, a GenAI span named after the model).
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    await telemetry.flush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === a.traceId);
    expect(spans.map((s) => s.name).sort()).toEqual(
      [
        'knowledge.ask',
        ...ANSWER_STAGES.map((stage) => `knowledge.${stage}`),
        'embeddings hashed-trigram-512',
      ].sort(),
    );
  });

  it('says the documents do not answer when retrieval finds nothing that does', async () => {
    for (const question of ['Who won the football world cup in 1998?', 'How do I bake sourdough bread?']) {
      const a = await answer(alice, question);
      expect(a).toMatchObject({ text: NO_ANSWER, citations: [], unanswered: true });
    }
    // Filtered to the Redis notes, a PostgreSQL question has no answer there.
    const filtered = await answer(alice, 'Which file controls PostgreSQL client authentication?', {
      documentIds: [ids.redis],
    });
    expect(filtered.unanswered).toBe(true);
    const unfiltered = await answer(alice, 'Which file controls PostgreSQL client authentication?');
    expect(unfiltered.citations[0]!.quote).toContain('pg_hba.conf');
  });

  it('bounds the question', async () => {
    for (const [question, got] of [
      ['', '0 after trimming'],
      ['x'.repeat(1001), '1001'],
    ] as const) {
      const { errors } = await ask(alice, question);
      expect(errors?.[0]).toMatchObject({
        message: `question must be 1 to 1000 characters (got ${got})`,
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  });

  it('answers each tenant only from its own chunks while both ask at once', async () => {
    const question = 'What is the default port of the PostgreSQL server?';
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? bob : alice)).map(async (who) => ({
        who,
        a: await answer(who, question),
      })),
    );
    for (const { who, a } of answers) {
      expect(a.unanswered).toBe(false);
      for (const c of a.citations) {
        if (who === bob) {
          expect(bobIds).toContain(c.document.id);
          expect(c.quote).toContain('6543');
        } else {
          expect(bobIds).not.toContain(c.document.id);
          expect(c.quote).not.toContain('Globex');
        }
      }
      expect(a.citations.length).toBeGreaterThan(0);
    }
  });
});
