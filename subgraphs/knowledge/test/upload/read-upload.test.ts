// The streamed upload's size limit, on a real HTTP server: a Content-Length over the limit is refused
// before a byte is read, a chunked body as soon as it passes the limit, and the client gets the answer.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readUpload } from '../../src/upload/read-upload.ts';

const MAX = 1024 * 1024;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    void readUpload(req, MAX).then((read) => {
      const body = read.kind === 'complete' ? { kind: read.kind, bytes: read.bytes.length } : read;
      res.writeHead(read.kind === 'too-large' ? 413 : 200, { connection: 'close' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/documents`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Sends `total` bytes in 64 KiB pieces; resolves with the answer, whenever it comes. */
function send(total: number, announce: boolean): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: announce ? { 'content-length': String(total) } : {},
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    void (async () => {
      for (let sent = 0; sent < total && !req.destroyed; sent += 65_536) {
        const piece = Buffer.alloc(Math.min(65_536, total - sent), 0x41);
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r).once('close', r));
      }
      req.end();
    })().catch(() => {});
  });
}

describe('readUpload', () => {
  it('reads a body within the limit, announced or chunked', async () => {
    expect(await send(MAX, true)).toEqual({ status: 200, body: { kind: 'complete', bytes: MAX } });
    expect(await send(1000, false)).toEqual({ status: 200, body: { kind: 'complete', bytes: 1000 } });
  });

  it('refuses an announced Content-Length over the limit before reading, and a chunked body once it passes it', async () => {
    expect(await send(MAX + 1, true)).toEqual({
      status: 413,
      body: { kind: 'too-large', announced: MAX + 1 },
    });
    expect(await send(4 * MAX, false)).toEqual({ status: 413, body: { kind: 'too-large' } });
  });
});
