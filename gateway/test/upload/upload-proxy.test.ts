import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../../../events/test/support.ts';
import { mutationRoles } from '../../../subgraphs/knowledge/src/subgraph.ts';
import { ROOT_DIR } from '../../src/compose.ts';
import { UPLOAD_PATH, UPLOAD_ROLES } from '../../src/upload/upload-proxy.ts';
import { type KnowledgePlatform, startKnowledgePlatform } from '../support/knowledge-platform.ts';
import type { TestPlatform } from '../support/platform.ts';

const MAX_UPLOAD = 40 * 1024 * 1024;
let knowledge: KnowledgePlatform;
let platform: TestPlatform;

beforeAll(async () => {
  // The real pipeline behind it: relay and a knowledge-ingest worker.
  knowledge = await startKnowledgePlatform({ KNOWLEDGE_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
  platform = knowledge.platform;
}, 90_000);
afterAll(async () => {
  await knowledge?.close();
});

/** What the gateway answered an upload. */
interface Answer {
  status: number;
  body: {
    document?: { id: string; status: string; bytes: number; mimeType: string };
    duplicate?: boolean;
    errors?: { message: string; extensions: Record<string, unknown> }[];
  };
}

const uploadUrl = (query: string) => new URL(`${UPLOAD_PATH}?${query}`, platform.gateway.url);

/**
 * Streams `chunks` to the gateway's upload endpoint with node:http (whatever the server answers
 * early, its answer is read); `length` declares a Content-Length, else the body is chunked.
 */
function upload(
  query: string,
  chunks: Iterable<Buffer>,
  options: { token?: string; type?: string; length?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(uploadUrl(query), {
      method: 'POST',
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.type ? { 'content-type': options.type } : {}),
        ...(options.length !== undefined ? { 'content-length': String(options.length) } : {}),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    // Writing after an early answer may fail (the server closed); the answer is what counts. An
    // error before any answer (a reset that lost it) fails the upload rather than waiting for ever.
    let answered = false;
    req.once('response', () => {
      answered = true;
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    (async () => {
      for (const chunk of chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await drained(req);
      }
      req.end();
    })().catch(() => {});
  });
}

/** Resolves when `req` may be written again, or is closed. */
function drained(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/** `total` bytes as 1 MiB pieces of `make(i)`. */
function* pieces(total: number, make: (i: number) => Buffer = () => Buffer.alloc(1024 * 1024, 0x41)) {
  for (let sent = 0, i = 0; sent < total; i++) {
    const piece = make(i);
    const part = piece.subarray(0, Math.min(piece.length, total - sent));
    sent += part.length;
    yield part;
  }
}

const auditRows = (action: string, outcome: string) =>
  platform.db.asSuperuser<{ input_summary: unknown; actor_id: string }>(
    'select input_summary, actor_id from audit.audit_events where action = $1 and outcome = $2',
    [action, outcome],
  );

describe('POST /documents through the gateway', () => {
  it('admits the roles the knowledge SDL declares for ingestDocument', () => {
    expect([...UPLOAD_ROLES].sort()).toEqual(mutationRoles('ingestDocument').sort());
  });

  // The subgraph answers 413 before it reads the body (or as soon as it passes the limit), while the
  // client is still sending: the answer must reach the client through the gateway, every time.
  it('refuses an oversized upload with 413 naming the limit, announced or found while streaming', async () => {
    const token = await platform.issuer.token('acme', 'carl', ['Contributor']);
    // Several times over: the answer raced the gateway's forwarding (undici destroyed the client's
    // request, and with it the connection the answer was to go back on).
    for (let round = 0; round < 3; round++) {
      const announced = await upload('title=Huge', pieces(MAX_UPLOAD + 1), { token, length: MAX_UPLOAD + 1 });
      expect(announced).toEqual({
        status: 413,
        body: {
          errors: [
            {
              message: `The document is ${MAX_UPLOAD + 1} bytes (40.0 MiB); the limit is ${MAX_UPLOAD} bytes (40.0 MiB, KNOWLEDGE_MAX_UPLOAD_BYTES). Split it or ask an operator to raise the limit.`,
              extensions: {
                code: 'PAYLOAD_TOO_LARGE',
                field: 'input',
                bytes: MAX_UPLOAD + 1,
                maxBytes: MAX_UPLOAD,
              },
            },
          ],
        },
      });
      // Chunked, with no length announced: cut off once it passes the limit.
      const streamed = await upload('title=Huge', pieces(MAX_UPLOAD + 4 * 1024 * 1024), { token });
      expect(streamed.status).toBe(413);
      expect(streamed.body.errors?.[0]).toMatchObject({
        message: `The document is more than ${MAX_UPLOAD} bytes; the limit is ${MAX_UPLOAD} bytes (40.0 MiB, KNOWLEDGE_MAX_UPLOAD_BYTES). Split it or ask an operator to raise the limit.`,
        extensions: { code: 'PAYLOAD_TOO_LARGE', maxBytes: MAX_UPLOAD },
      });
    }
    expect(await auditRows('knowledge.uploadDocument', 'failed')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ input_summary: expect.objectContaining({ _error: 'PAYLOAD_TOO_LARGE' }) }),
      ]),
    );
  }, 300_000);

  it('streams a 31 MB HTML page to the knowledge subgraph and the pipeline makes it READY', async () => {
    const token = await platform.issuer.token('acme', 'carl', ['Contributor']);
    // A page with a large embedded image: 31 MB on the wire, two paragraphs of text.
    const head = Buffer.from(
      '<!doctype html><html><body><h1>Field guide</h1><p>Birds of the coast.</p><img src="data:image/png;base64,',
    );
    const tail = Buffer.from('"><p>Gulls and terns.</p></body></html>');
    const total = 31 * 1024 * 1024;
    const body = [head, ...pieces(total - head.length - tail.length), tail];
    const answer = await upload('title=Field%20guide&sourceUri=https%3A%2F%2Fexample.org%2Fguide', body, {
      token,
      type: 'text/html',
      length: total,
    });
    expect(answer).toMatchObject({
      status: 201,
      body: { duplicate: false, document: { status: 'QUEUED', bytes: total, mimeType: 'text/html' } },
    });
    const id = answer.body.document!.id;
    let doc: Record<string, unknown> | undefined;
    await eventually(
      async () => {
        const res = await platform.post(
          {
            query: 'query ($id: ID!) { document(id: $id) { status chunkCount bytes error } }',
            variables: { id },
          },
          token,
        );
        doc = res.body.data?.document as Record<string, unknown>;
        return doc?.status === 'READY' || doc?.status === 'FAILED';
      },
      'the uploaded document finished',
      300_000,
    );
    expect(doc).toEqual({ status: 'READY', chunkCount: 1, bytes: total, error: null });
    const audits = await auditRows('knowledge.uploadDocument', 'success');
    expect(audits).toHaveLength(1);
    // The same bytes again: the tenant's existing document, nothing stored twice.
    const again = await upload('title=Copy', [head, ...pieces(total - head.length - tail.length), tail], {
      token,
    });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true, document: { id } } });
    // A refusal right after the large uploads (it once waited out the test on PGlite).
    const refused = await upload('title=Huge', pieces(MAX_UPLOAD + 1), { token, length: MAX_UPLOAD + 1 });
    expect(refused).toMatchObject({
      status: 413,
      body: { errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] },
    });
  }, 400_000);

  it('refuses a wrong token, a Reader and an unsupported type with clear errors', async () => {
    const bytes = [Buffer.from('Some text.')];
    const forged = await upload('title=x', bytes, { token: 'not.a.token' });
    expect(forged.status).toBe(401);
    expect(forged.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    const none = await upload('title=x', bytes);
    expect(none).toMatchObject({
      status: 401,
      body: { errors: [{ message: 'Missing access token: send an "Authorization: Bearer <token>" header' }] },
    });
    const reader = await platform.issuer.token('acme', 'rita', ['Reader']);
    expect(await upload('title=x', bytes, { token: reader })).toEqual({
      status: 403,
      body: {
        errors: [
          {
            message:
              'Uploading a document requires one of the roles Contributor, Admin; the caller has Reader',
            extensions: { code: 'FORBIDDEN', requiredRoles: ['Contributor', 'Admin'] },
          },
        ],
      },
    });
    expect(await auditRows('gateway.uploadDocument', 'denied')).toHaveLength(1);
    const carl = await platform.issuer.token('acme', 'carl', ['Contributor']);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    const image = await upload('title=Photo', [png], { token: carl, type: 'image/png' });
    expect(image).toMatchObject({
      status: 415,
      body: { errors: [{ extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', found: 'image/png' } }] },
    });
    const badTag = await upload('title=x&language=not%20a%20tag', bytes, { token: carl });
    expect(badTag).toMatchObject({
      status: 400,
      body: {
        errors: [
          {
            message: 'input.language must be a BCP 47 language tag such as "en" or "pt-BR" (got "not a tag")',
            extensions: { code: 'BAD_USER_INPUT' },
          },
        ],
      },
    });
    const untitled = await upload('', bytes, { token: carl });
    expect(untitled).toMatchObject({
      status: 400,
      body: { errors: [{ message: 'Name the document: add ?title=<title> to the upload URL' }] },
    });
  });

  it('stores nothing when the client disconnects midway', async () => {
    const token = await platform.issuer.token('acme', 'carl', ['Contributor']);
    const before = await platform.db.asSuperuser<{ n: number }>(
      'select (select count(*) from knowledge.document_blobs)::int + (select count(*) from knowledge.documents)::int as n',
    );
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(uploadUrl('title=Half'), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(30 * 1024 * 1024) },
      });
      req.on('error', () => {});
      req.on('response', () => reject(new Error('the upload was answered before it was cut off')));
      (async () => {
        // Well past every socket buffer on the way: the subgraph is reading when the client goes.
        for (const chunk of pieces(16 * 1024 * 1024)) {
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.destroy();
        resolve();
      })().catch(reject);
    });
    await eventually(
      async () =>
        (await auditRows('knowledge.uploadDocument', 'failed')).some(
          (row) => (row.input_summary as { _error?: string })._error === 'CLIENT_DISCONNECTED',
        ),
      'the record of the abandoned upload',
    );
    const after = await platform.db.asSuperuser<{ n: number }>(
      'select (select count(*) from knowledge.document_blobs)::int + (select count(*) from knowledge.documents)::int as n',
    );
    expect(after).toEqual(before);
    expect(
      await platform.db.asSuperuser("select 1 from knowledge.documents where title = 'Half'"),
    ).toHaveLength(0);
  });

  it('npm run ingest streams a folder through it and waits for READY', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'wtdc-ingest-'));
    try {
      await writeFile(join(folder, 'runbook.md'), '# Runbook\n\nRestart the service.\n');
      await writeFile(join(folder, 'notes.txt'), 'Plain notes for the CLI.');
      await writeFile(join(folder, 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      const token = await platform.issuer.token('acme', 'ingest', ['Contributor']);
      const run = (...args: string[]) =>
        promisify(execFile)(
          process.execPath,
          [join(ROOT_DIR, 'scripts', 'ingest.ts'), folder, '--tenant', 'acme', '--token', token, ...args],
          { env: { ...process.env, NODE_OPTIONS: '' }, cwd: ROOT_DIR },
        );
      const first = await run('--url', platform.gateway.url, '--wait');
      expect(first.stdout).toMatch(/^ingested 2, unchanged 0, failed 0, skipped 1 \(/);
      expect(first.stderr).toMatch(/skipped .*photo\.png: unsupported type \(\.png\)/);
      const again = await run('--url', platform.gateway.url);
      expect(again.stdout).toMatch(/^queued 0, unchanged 2, failed 0, skipped 1 \(/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 300_000);
});
