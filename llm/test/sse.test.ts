import { sseData } from '#llm/sse.ts';

const bytes = (...parts: string[]) =>
  (async function* () {
    for (const part of parts) yield new TextEncoder().encode(part);
  })();

async function all(body: AsyncIterable<Uint8Array>) {
  const out: string[] = [];
  for await (const data of sseData(body)) out.push(data);
  return out;
}

describe('server-sent events', () => {
  it('reads data events split anywhere across chunks, with LF, CRLF and CR line ends', async () => {
    expect(
      await all(bytes('data: {"a":', '1}\n\nda', 'ta: two\r', '\n\r\ndata:three\r\rdata: [DONE]\n\n')),
    ).toEqual(['{"a":1}', 'two', 'three', '[DONE]']);
  });

  it('joins multi-line data, ignores comments and other fields', async () => {
    expect(
      await all(bytes(': keep-alive\n\nevent: message\nid: 7\ndata: a\ndata: b\nretry: 10\n\n')),
    ).toEqual(['a\nb']);
  });

  it('keeps a character split across chunks whole', async () => {
    const euro = new TextEncoder().encode('data: 5 €\n\n');
    const body = (async function* () {
      yield euro.slice(0, 9);
      yield euro.slice(9);
    })();
    expect(await all(body)).toEqual(['5 €']);
  });

  it('drops an event the body ends inside (a cut stream)', async () => {
    expect(await all(bytes('data: whole\n\ndata: {"cut": tr'))).toEqual(['whole']);
  });
});
