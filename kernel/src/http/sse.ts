// Server-sent events (the WHATWG format): `field: value` lines, events separated by a blank line.
// Used by the chat-completions client (`data: <json>` … `data: [DONE]`) and by GraphQL over SSE
// between the gateway and a subgraph (`event: next` / `event: complete`). Comments (`: keep-alive`)
// and the `id:` and `retry:` fields are ignored.

/** One event of an SSE stream: its `event` name (`message` when none was given) and its `data`. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** The events of an SSE byte stream, in order; lines may be split anywhere across chunks. */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event = '';
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
  const value = (line: string, field: string) =>
    line.slice(line[field.length + 1] === ' ' ? field.length + 2 : field.length + 1);
  const take = function* (line: string): Generator<SseEvent> {
    if (line === '') {
      if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
      data = [];
      event = '';
    } else if (line.startsWith('data:')) {
      data.push(value(line, 'data'));
    } else if (line.startsWith('event:')) {
      event = value(line, 'event');
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) yield* take(line);
  }
  buffer += decoder.decode();
  // As the SSE standard says, an event the body ends inside (no blank line after it) is dropped:
  // it may be cut off, and the caller sees the stream end without its last event.
  for (const line of lines(true)) yield* take(line);
}

/** The `data` of each event of an SSE byte stream, in order. */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  for await (const { data } of sseEvents(body)) yield data;
}

/** One SSE event as written: `event: <name>` and its data, one `data:` line per line of it. */
export function sseEvent(event: string, data: string): string {
  return `event: ${event}\n${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}
