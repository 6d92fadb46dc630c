// The kernel's SSE reader and writer: event names (GraphQL over SSE's `next` / `complete`), data
// across lines and chunks, and what the writer produces reads back the same.
import { type SseEvent, sseEvent, sseEvents } from '#kernel/http/sse.ts';

async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function read(text: string, size = 3): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of sseEvents(chunks(text, size))) out.push(event);
  return out;
}

describe('sseEvents', () => {
  it('reads event names and data, split anywhere across chunks', async () => {
    const text =
      ': keep-alive\n\nevent: next\ndata: {"a":1}\n\nevent:next\r\ndata:line 1\r\ndata: line 2\r\n\r\ndata: plain\n\nevent: complete\ndata: \n\n';
    for (const size of [1, 2, 7, 1000]) {
      expect(await read(text, size)).toEqual([
        { event: 'next', data: '{"a":1}' },
        { event: 'next', data: 'line 1\nline 2' },
        { event: 'message', data: 'plain' },
        { event: 'complete', data: '' },
      ]);
    }
  });

  it('drops an event the body ends inside', async () => {
    expect(await read('event: next\ndata: {"a":1}\n\nevent: next\ndata: {"b"')).toEqual([
      { event: 'next', data: '{"a":1}' },
    ]);
  });

  it('reads back what sseEvent writes, multi-line data included', async () => {
    const written = sseEvent('next', '{"x":"a"}\nsecond line') + sseEvent('complete', '');
    expect(await read(written)).toEqual([
      { event: 'next', data: '{"x":"a"}\nsecond line' },
      { event: 'complete', data: '' },
    ]);
  });
});
