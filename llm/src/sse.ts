// Server-sent events as the chat-completions protocol uses them: `data: <json>` lines, events
// separated by a blank line, `data: [DONE]` at the end. Comments (`: keep-alive`) and other fields
// (`event:`, `id:`, `retry:`) are ignored.

/** The `data` of each event of an SSE byte stream, in order; lines may be split anywhere across chunks. */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const lines = function* (final: boolean) {
    let end = buffer.search(/\r\n|\r|\n/);
    while (end !== -1) {
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (!final && buffer[end] === '\r' && end === buffer.length - 1) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      yield line;
      end = buffer.search(/\r\n|\r|\n/);
    }
    if (final && buffer !== '') {
      yield buffer;
      buffer = '';
    }
  };
  const take = function* (line: string) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(line[5] === ' ' ? 6 : 5));
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) yield* take(line);
  }
  buffer += decoder.decode();
  // As the SSE standard says, an event the body ends inside (no blank line after it) is dropped:
  // it may be cut off, and the caller sees the stream end without its `[DONE]`.
  for (const line of lines(true)) yield* take(line);
}
