import { withTenant } from '#kernel/db/tenant-context.ts';
import { buildDocx, docxParts } from './fixtures/docx.ts';
import { buildPdf } from './fixtures/pdf.ts';
import { buildZip } from './fixtures/zip.ts';
import { base64, useIngestSuite } from './support.ts';

const suite = useIngestSuite({
  env: {
    KNOWLEDGE_MAX_DOCUMENT_BYTES: '300000',
    KNOWLEDGE_CHUNK_TOKENS: '64',
    KNOWLEDGE_CHUNK_OVERLAP_TOKENS: '8',
  },
});

const chunksOf = (tenantId: string, documentId: string) =>
  withTenant(suite.orm, tenantId, (em) =>
    em.execute<
      {
        ordinal: number;
        content: string;
        heading_path: string;
        page: number | null;
        embedding_model: string;
      }[]
    >(
      'select ordinal, content, heading_path, page, embedding_model from knowledge.chunks where document_id = ? order by ordinal',
      [documentId],
    ),
  );

describe('ingestion pipeline: every format end to end', () => {
  it('plain text and Markdown become READY with heading paths', async () => {
    const alice = await suite.identity('acme');
    const textId = await suite.ingest(alice, {
      title: 'Notes',
      text: 'First paragraph.\n\nSecond paragraph.',
      language: 'en',
    });
    const md = '# Server Configuration\n\nIntro.\n\n## Connections\n\n### port\n\nThe port is 5432.\n';
    const mdId = await suite.ingest(alice, {
      title: 'Config',
      text: md,
      mimeType: 'text/markdown',
      metadata: { team: 'ops' },
    });
    const text = await suite.finished(alice, textId);
    expect(text).toMatchObject({
      status: 'READY',
      mimeType: 'text/plain',
      chunkCount: 1,
      pageCount: null,
      language: 'en',
      error: null,
    });
    expect(text.ingestedAt).toEqual(expect.any(String));
    const markdown = await suite.finished(alice, mdId);
    expect(markdown).toMatchObject({
      status: 'READY',
      mimeType: 'text/markdown',
      chunkCount: 2,
      metadata: { team: 'ops' },
    });
    expect(
      (await chunksOf(alice.tenantId, mdId)).map((c) => [c.heading_path, c.content, c.embedding_model]),
    ).toEqual([
      ['Server Configuration', 'Intro.', 'hashed-trigram-512'],
      ['Server Configuration › Connections › port', 'The port is 5432.', 'hashed-trigram-512'],
    ]);
  });

  it('HTML without its navigation, PDF with page numbers, DOCX with headings', async () => {
    const alice = await suite.identity('acme');
    const html =
      '<!doctype html><html><body><nav>Home | About</nav><h1>Guide</h1><p>Install it.</p><footer>©</footer></body></html>';
    const htmlId = await suite.ingest(alice, { title: 'Guide', contentBase64: base64(html) });
    const pdf = buildPdf([['Page one text.'], ['Page two text.']]);
    const pdfId = await suite.ingest(alice, { title: 'Manual', contentBase64: base64(pdf) });
    const docx = buildDocx([{ heading: 1, text: 'Policy' }, 'Be kind.']);
    const docxId = await suite.ingest(alice, { title: 'Policy', contentBase64: base64(docx) });
    expect(await suite.finished(alice, htmlId)).toMatchObject({ status: 'READY', mimeType: 'text/html' });
    expect((await chunksOf(alice.tenantId, htmlId)).map((c) => [c.heading_path, c.content])).toEqual([
      ['Guide', 'Install it.'],
    ]);
    expect(await suite.finished(alice, pdfId)).toMatchObject({
      status: 'READY',
      mimeType: 'application/pdf',
      pageCount: 2,
      bytes: pdf.length,
    });
    expect((await chunksOf(alice.tenantId, pdfId)).map((c) => [c.page, c.content])).toEqual([
      [1, 'Page one text.\n\nPage two text.'],
    ]);
    expect(await suite.finished(alice, docxId)).toMatchObject({ status: 'READY', chunkCount: 1 });
    expect((await chunksOf(alice.tenantId, docxId)).map((c) => [c.heading_path, c.content])).toEqual([
      ['Policy', 'Be kind.'],
    ]);
  });
});

describe('ingestion pipeline: bad inputs', () => {
  it('refuses oversized, empty, ambiguous and unsupported input with a clear error', async () => {
    const alice = await suite.identity('acme');
    const run = (input: Record<string, unknown>) =>
      suite.knowledge.execute(
        alice,
        'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id } }',
        { input },
      );
    const big = await run({ title: 'Big', text: 'x'.repeat(300_001) });
    expect(big.errors?.[0]).toMatchObject({
      message:
        'The document is 300001 bytes (0.3 MiB); the limit is 300000 bytes (0.3 MiB, KNOWLEDGE_MAX_DOCUMENT_BYTES). Split it or ask an operator to raise the limit.',
      extensions: { code: 'PAYLOAD_TOO_LARGE', maxBytes: 300000 },
    });
    const bigBase64 = await run({ title: 'Big', contentBase64: base64(Buffer.alloc(300_003, 65)) });
    expect(bigBase64.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await run({ title: 'Empty', text: '' })).errors?.[0]).toMatchObject({
      message: 'The document is empty',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await run({ title: 'Both', text: 'a', contentBase64: 'YQ==' })).errors?.[0]?.message).toBe(
      'Give the document as exactly one of input.text and input.contentBase64',
    );
    expect((await run({ title: 'Bad', contentBase64: 'not base64!' })).errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expect(
      (await run({ title: 'Image', contentBase64: base64(png), mimeType: 'application/pdf' })).errors?.[0],
    ).toMatchObject({
      extensions: { code: 'UNSUPPORTED_MEDIA_TYPE', found: 'image/png' },
    });
  });

  it('truncated, image-only, zip-bomb, deeply nested and badly encoded documents end FAILED with a reason', async () => {
    const alice = await suite.identity('acme');
    const pdf = buildPdf([['Some text here.']]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ title: 'Truncated', contentBase64: base64(pdf.subarray(0, 250)) }, /^PDF cannot be read \(/],
      [{ title: 'Scan', contentBase64: base64(buildPdf([null])) }, /^PDF has no text layer/],
      [
        { title: 'Claims', contentBase64: base64(buildPdf([['x']], 10_000)) },
        /^PDF has 10000 pages; at most 5000 are supported$/,
      ],
      [
        {
          title: 'Bomb',
          contentBase64: base64(
            buildZip(
              docxParts(['x']).map((p) =>
                p.name === 'word/document.xml' ? { ...p, data: ' '.repeat(250_000_000) } : p,
              ),
            ),
          ),
        },
        /zip bomb/,
      ],
      [
        { title: 'Deep', text: `<html><body>${'<div>'.repeat(5000)}x</body></html>` },
        /nests elements more than 1000 deep/,
      ],
      [
        { title: 'Latin-1', contentBase64: base64(Buffer.from('caf\xe9 au lait', 'latin1')) },
        /^not valid UTF-8 at byte 3$/,
      ],
    ];
    const ids = [];
    for (const [input] of cases) ids.push(await suite.ingest(alice, input));
    for (const [i, [, reason]] of cases.entries()) {
      const doc = await suite.finished(alice, ids[i]!);
      expect(doc.status).toBe('FAILED');
      expect(doc.error).toMatch(reason);
    }
    // The workers stayed up: a good document still goes through.
    const ok = await suite.ingest(alice, { title: 'After', text: 'Still working.' });
    expect((await suite.finished(alice, ok)).status).toBe('READY');
  }, 120_000);

  it('a mislabelled document is parsed as what its bytes are', async () => {
    const alice = await suite.identity('acme');
    const id = await suite.ingest(alice, {
      title: 'Labelled text',
      mimeType: 'text/plain',
      contentBase64: base64(buildPdf([['Really a PDF.']])),
    });
    expect(await suite.finished(alice, id)).toMatchObject({
      status: 'READY',
      mimeType: 'application/pdf',
      pageCount: 1,
    });
  });
});
