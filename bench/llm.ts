// What the chat client and the chat answerer cost on top of the bytes: the same answers from a local
// chat-completions server read by a bare fetch (the anchor: the body read whole) and by our code
// (SSE parsing, chunk validation, folding, the answerer's citation filter and quotes).
// Run: npm run bench:llm [-- --iterations 200 --pieces 400]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChatClient } from '#llm/chat-client.ts';
import { reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import type { AnswerSource } from '../subgraphs/knowledge/src/answer/answerer.ts';
import { LlmAnswerer } from '../subgraphs/knowledge/src/answer/llm-answerer.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '200' }, pieces: { type: 'string', default: '400' } },
});
const ITERATIONS = Number(values.iterations);
const PIECES = Number(values.pieces);
const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);

// An answer of PIECES small deltas citing sources 1–5, as models stream them (a few characters each).
const words = 'The server listens on port 5432 by default and the port is set in postgresql.conf'.split(' ');
const pieces = Array.from({ length: PIECES }, (_, i) =>
  i % 12 === 11 ? ` [${(i % 5) + 1}].` : `${i % 12 === 0 ? ' ' : ' '}${words[i % words.length]}`,
);
const sources: AnswerSource[] = Array.from({ length: 5 }, (_, i) => ({
  n: i + 1,
  chunkId: `c${i}`,
  documentId: `d${i}`,
  title: `Document ${i + 1}`,
  headingPath: 'Settings',
  page: null,
  score: 1,
  text: 'The server listens on TCP port 5432 by default. The port is set with the port parameter in postgresql.conf. A change takes effect after a restart. '.repeat(
    3,
  ),
}));

const fake = await startFakeChatServer(
  reply.answer({ pieces, usage: { prompt_tokens: 900, completion_tokens: PIECES } }),
);
const url = `${fake.baseUrl}/chat/completions`;
const client = new ChatClient({
  url,
  model: 'openai:bench',
  auth: { kind: 'none' },
  timeoutMs: 30_000,
  maxRetries: 0,
});
const answerer = new LlmAnswerer(client);
const body = (stream: boolean) =>
  JSON.stringify({
    model: 'bench',
    messages: [{ role: 'user', content: 'q' }],
    ...(stream ? { stream: true } : {}),
  });

interface Stats {
  p50: number;
  p95: number;
  mean: number;
}

async function measure(label: string, op: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(20, ITERATIONS); i++) await op(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now();
    await op();
    times.push(performance.now() - t);
    if (i % Math.max(1, Math.floor(ITERATIONS / 10)) === 0) progress(`\r  ${label}: ${i}/${ITERATIONS}   `);
  }
  progress(`\r  ${label}: done${' '.repeat(20)}\n`);
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p95: at(0.95), mean: times.reduce((a, b) => a + b, 0) / times.length };
}

out(
  `bench:llm — ${ITERATIONS} requests per scenario, ${PIECES} streamed pieces per answer, local fake server`,
);
const rawStream = await measure('fetch, SSE body read whole (anchor)', async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(true),
  });
  await response.text();
});
let tokens = 0;
const ourStream = await measure('ChatClient streamed, onToken per piece', async () => {
  const result = await client.chat(
    { messages: [{ role: 'user', content: 'q' }] },
    { onToken: () => tokens++ },
  );
  if (!result.text) throw new Error('empty answer');
});
const rawWhole = await measure('fetch, whole JSON answer (anchor)', async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(false),
  });
  await response.json();
});
const ourWhole = await measure('ChatClient whole answer', () =>
  client.chat({ messages: [{ role: 'user', content: 'q' }] }),
);
const answered = await measure('LlmAnswerer streamed (filter, citations, quotes)', async () => {
  const draft = await answerer.answer('Which port?', sources, { onToken: () => {} });
  if (draft.citations.length === 0) throw new Error('no citations');
});
await fake.close();

const row = (label: string, s: Stats, anchor?: Stats) =>
  out(
    `${label.padEnd(46)} p50 ${s.p50.toFixed(2).padStart(7)} ms  p95 ${s.p95.toFixed(2).padStart(7)} ms  ` +
      `${((PIECES / s.mean) * 1000).toFixed(0).padStart(8)} pieces/s${anchor ? `  ×${(s.mean / anchor.mean).toFixed(2)} of anchor` : ''}`,
  );
out();
row('fetch, SSE body read whole (anchor)', rawStream);
row('ChatClient streamed', ourStream, rawStream);
row('LlmAnswerer streamed', answered, rawStream);
row('fetch, whole JSON (anchor)', rawWhole);
row('ChatClient whole', ourWhole, rawWhole);
out();
out(
  `Notes: the fake server runs in this process, so every figure includes its writing; the ratios are what our ` +
    `parsing, validation and callbacks add to reading the same bytes. ${tokens} onToken calls in the streamed runs.`,
);
